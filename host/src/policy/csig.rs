//! Pinned C signatures: the policy's way of saying "this symbol may only be
//! called like this". Parsed from C declarations with a few annotations that
//! tell checked mode how far native code may read or write through each
//! pointer:
//!
//! ```text
//! size_t strlen(const char *s)                       // a NUL-terminated string
//! void *memset(void *s [$3], int c, size_t n)        // s holds at least n bytes
//! void qsort(void *base [$2*$3], size_t, size_t, int (*)(const void *, const void *))
//! long strtol(const char *, char **end [1] nullable, int)
//! int snprintf(char *buf [$2], size_t, const char *fmt format, ...)
//! const char *getenv(const char *)                   // result: a borrowed string
//! ```
//!
//! * `[BOUND]` after a pointer parameter: the memory it points to must hold
//!   BOUND elements of the pointee (bytes for `void`); BOUND is a product of
//!   integers and `$N` (the value of the N-th argument, counting from 1).
//! * a `char *` parameter without a bound must point to a NUL-terminated
//!   string that ends inside its block.
//! * `nullable`: NULL is accepted (otherwise it is refused in checked mode).
//! * `format`: a printf-style format; the variadic arguments must match it
//!   and `%n` is refused.
//! * a function-pointer parameter only accepts a live callback of the run.
//! * a `const T *` result is recorded as borrowed read-only memory (a string
//!   for `char`, else `BOUND` or one element).

use std::fmt;

use wasmffi_native::Scalar;

/// A parsed, pinned C signature.
#[derive(Clone, Debug, PartialEq)]
pub struct CSignature {
    pub ret: CType,
    pub params: Vec<CParam>,
    /// `...` after the fixed parameters.
    pub variadic: bool,
    /// Bound of a `const T *` result (`T *name(...) [BOUND]`).
    pub ret_bound: Option<Bound>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CType {
    pub scalar: Scalar,
    /// Set for pointers (including function pointers).
    pub pointer: Option<Pointee>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pointee {
    /// `const` on the pointed-to type: native code only reads.
    pub is_const: bool,
    /// Size of one element (1 for `void` and `char`, 8 for `T *` pointees).
    pub elem_size: u64,
    /// `char *` / `const char *` (a string unless bounded).
    pub is_char: bool,
    pub is_function: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CParam {
    pub ty: CType,
    pub bound: Option<Bound>,
    pub nullable: bool,
    pub format: bool,
}

/// A product of constants and argument values.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound(pub Vec<Term>);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Term {
    Const(u64),
    /// Zero-based argument index.
    Arg(usize),
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("*")?;
            }
            match t {
                Term::Const(n) => write!(f, "{n}")?,
                Term::Arg(i) => write!(f, "${}", i + 1)?,
            }
        }
        Ok(())
    }
}

impl Bound {
    /// Evaluate with the call's argument values; `None` on overflow.
    pub fn eval(&self, arg: impl Fn(usize) -> u64) -> Option<u64> {
        self.0.iter().try_fold(1u64, |acc, t| {
            acc.checked_mul(match t {
                Term::Const(n) => *n,
                Term::Arg(i) => arg(*i),
            })
        })
    }
}

/// The scalar a C type is passed as on this host.
fn int_scalar(size: usize, signed: bool) -> Scalar {
    match (size, signed) {
        (1, true) => Scalar::Sint8,
        (1, false) => Scalar::Uint8,
        (2, true) => Scalar::Sint16,
        (2, false) => Scalar::Uint16,
        (4, true) => Scalar::Sint32,
        (4, false) => Scalar::Uint32,
        (_, true) => Scalar::Sint64,
        (_, false) => Scalar::Uint64,
    }
}

fn sized<T>(signed: bool) -> (Scalar, u64) {
    let size = std::mem::size_of::<T>();
    (int_scalar(size, signed), size as u64)
}

/// Scalar and size of a base (non-pointer) type named by `words`.
fn base_type(words: &[&str]) -> Result<(Scalar, u64, bool), String> {
    let char_signed = libc::c_char::MIN != 0;
    let wchar_signed = libc::wchar_t::MIN != 0;
    let mut signed = None;
    let mut rest: Vec<&str> = Vec::new();
    for w in words {
        match *w {
            "signed" => signed = Some(true),
            "unsigned" => signed = Some(false),
            other => rest.push(other),
        }
    }
    // `long int`, `short int`, `long long int`: drop the `int`.
    if rest.len() > 1 && rest.last() == Some(&"int") {
        rest.pop();
    }
    let s = signed.unwrap_or(true);
    let (scalar, size) = match rest.as_slice() {
        [] if signed.is_some() => sized::<libc::c_int>(s),
        ["void"] if signed.is_none() => return Ok((Scalar::Void, 1, false)),
        ["char"] => {
            let (sc, sz) = sized::<libc::c_char>(signed.unwrap_or(char_signed));
            return Ok((sc, sz, true));
        }
        ["short"] => sized::<libc::c_short>(s),
        ["int"] => sized::<libc::c_int>(s),
        ["long"] => sized::<libc::c_long>(s),
        ["long", "long"] => sized::<libc::c_longlong>(s),
        ["float"] if signed.is_none() => (Scalar::Float32, 4),
        ["double"] if signed.is_none() => (Scalar::Float64, 8),
        ["long", "double"] if signed.is_none() => (
            Scalar::LongDouble,
            wasmffi_native::middle::types::scalar_size(Scalar::LongDouble) as u64,
        ),
        ["_Bool" | "bool"] if signed.is_none() => (Scalar::Uint8, 1),
        [name] if signed.is_none() => match *name {
            "size_t" | "uintptr_t" => sized::<libc::size_t>(false),
            "ssize_t" | "intptr_t" | "ptrdiff_t" => sized::<libc::ssize_t>(true),
            "off_t" => sized::<libc::off_t>(true),
            "time_t" => sized::<libc::time_t>(true),
            "wchar_t" => sized::<libc::wchar_t>(wchar_signed),
            "int8_t" => (Scalar::Sint8, 1),
            "uint8_t" => (Scalar::Uint8, 1),
            "int16_t" => (Scalar::Sint16, 2),
            "uint16_t" => (Scalar::Uint16, 2),
            "int32_t" => (Scalar::Sint32, 4),
            "uint32_t" => (Scalar::Uint32, 4),
            "int64_t" => (Scalar::Sint64, 8),
            "uint64_t" => (Scalar::Uint64, 8),
            other => return Err(format!("unknown C type {other:?}")),
        },
        _ => return Err(format!("unknown C type {:?}", words.join(" "))),
    };
    Ok((scalar, size, false))
}

const TYPE_WORDS: &[&str] = &[
    "void",
    "char",
    "short",
    "int",
    "long",
    "float",
    "double",
    "signed",
    "unsigned",
    "_Bool",
    "bool",
    "size_t",
    "ssize_t",
    "uintptr_t",
    "intptr_t",
    "ptrdiff_t",
    "off_t",
    "time_t",
    "wchar_t",
    "int8_t",
    "uint8_t",
    "int16_t",
    "uint16_t",
    "int32_t",
    "uint32_t",
    "int64_t",
    "uint64_t",
];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Num(u64),
    Dollar(usize),
    Punct(char),
    Ellipsis,
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() || c == '$' {
            let dollar = c == '$';
            if dollar {
                i += 1;
            }
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let n: u64 = digits
                .parse()
                .map_err(|_| format!("bad number {digits:?} at column {}", start + 1))?;
            if dollar {
                if n == 0 {
                    return Err("argument references count from $1".into());
                }
                out.push(Tok::Dollar(n as usize - 1));
            } else {
                out.push(Tok::Num(n));
            }
        } else if chars[i..].starts_with(&['.', '.', '.']) {
            out.push(Tok::Ellipsis);
            i += 3;
        } else if "()*,[]".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character {c:?} at column {}", i + 1));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, p: char) -> bool {
        if self.peek() == Some(&Tok::Punct(p)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: char) -> Result<(), String> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(format!("expected '{p}', found {}", self.describe()))
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end".into(),
            Some(Tok::Word(w)) => format!("{w:?}"),
            Some(Tok::Num(n)) => n.to_string(),
            Some(Tok::Dollar(n)) => format!("${}", n + 1),
            Some(Tok::Punct(c)) => format!("'{c}'"),
            Some(Tok::Ellipsis) => "'...'".into(),
        }
    }

    fn word_is(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    /// `const`-qualified base type and its stars.
    fn ty(&mut self) -> Result<CType, String> {
        let mut is_const = false;
        let mut words = Vec::new();
        while let Some(Tok::Word(w)) = self.peek() {
            let w = w.clone();
            if w == "const" || w == "volatile" || w == "restrict" {
                is_const |= w == "const";
            } else if TYPE_WORDS.contains(&w.as_str()) {
                // Typedef names stand alone; keywords combine.
                let typedef = !matches!(
                    w.as_str(),
                    "void"
                        | "char"
                        | "short"
                        | "int"
                        | "long"
                        | "float"
                        | "double"
                        | "signed"
                        | "unsigned"
                        | "_Bool"
                        | "bool"
                );
                if typedef && !words.is_empty() {
                    break;
                }
                words.push(w);
                if typedef {
                    self.pos += 1;
                    break;
                }
            } else if words.is_empty() {
                return Err(format!("unknown C type {w:?}"));
            } else {
                break;
            }
            self.pos += 1;
        }
        while matches!(self.peek(), Some(Tok::Word(w)) if w == "const") {
            is_const = true;
            self.pos += 1;
        }
        if words.is_empty() {
            return Err(format!("expected a C type, found {}", self.describe()));
        }
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let (scalar, size, is_char) = base_type(&refs)?;
        let mut ty = CType {
            scalar,
            pointer: None,
        };
        let mut stars = 0;
        while self.eat('*') {
            stars += 1;
            let pointee_const = is_const;
            is_const = false;
            while let Some(Tok::Word(w)) = self.peek() {
                if w == "const" || w == "restrict" || w == "volatile" {
                    is_const |= w == "const";
                    self.pos += 1;
                } else {
                    break;
                }
            }
            ty = CType {
                scalar: Scalar::Pointer,
                pointer: Some(Pointee {
                    is_const: pointee_const,
                    elem_size: if stars == 1 { size } else { 8 },
                    is_char: stars == 1 && is_char,
                    is_function: false,
                }),
            };
        }
        if ty.scalar == Scalar::Void && ty.pointer.is_none() {
            return Ok(ty);
        }
        Ok(ty)
    }

    /// A type possibly followed by `(*name)(params)` (a function pointer).
    fn declarator_type(&mut self) -> Result<CType, String> {
        let ty = self.ty()?;
        if self.peek() == Some(&Tok::Punct('('))
            && self.toks.get(self.pos + 1) == Some(&Tok::Punct('*'))
        {
            self.pos += 2;
            if let Some(Tok::Word(_)) = self.peek() {
                self.pos += 1;
            }
            self.expect(')')?;
            self.expect('(')?;
            // The callee's own parameters are not checked (the callback's
            // prepared signature is what native code calls).
            self.params()?;
            return Ok(CType {
                scalar: Scalar::Pointer,
                pointer: Some(Pointee {
                    is_const: true,
                    elem_size: 1,
                    is_char: false,
                    is_function: true,
                }),
            });
        }
        Ok(ty)
    }

    fn bound(&mut self) -> Result<Bound, String> {
        let mut terms = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Num(n)) => terms.push(Term::Const(*n)),
                Some(Tok::Dollar(i)) => terms.push(Term::Arg(*i)),
                _ => return Err(format!("expected a bound term, found {}", self.describe())),
            }
            self.pos += 1;
            if !self.eat('*') {
                break;
            }
        }
        self.expect(']')?;
        Ok(Bound(terms))
    }

    fn param(&mut self) -> Result<CParam, String> {
        let ty = self.declarator_type()?;
        if let Some(Tok::Word(w)) = self.peek() {
            if !matches!(w.as_str(), "nullable" | "format") {
                self.pos += 1; // parameter name
            }
        }
        let mut p = CParam {
            ty,
            bound: None,
            nullable: false,
            format: false,
        };
        loop {
            if self.eat('[') {
                p.bound = Some(self.bound()?);
            } else if self.word_is("nullable") {
                self.pos += 1;
                p.nullable = true;
            } else if self.word_is("format") {
                self.pos += 1;
                p.format = true;
            } else {
                break;
            }
        }
        let is_ptr = p.ty.pointer.is_some();
        if !is_ptr && (p.bound.is_some() || p.nullable || p.format) {
            return Err("bounds, `nullable` and `format` apply to pointer parameters only".into());
        }
        if p.format && !p.ty.pointer.as_ref().is_some_and(|t| t.is_char) {
            return Err("`format` applies to a `const char *` parameter".into());
        }
        Ok(p)
    }

    /// Parameters up to and including `)`; returns them and whether `...` ended them.
    fn params(&mut self) -> Result<(Vec<CParam>, bool), String> {
        let mut params = Vec::new();
        if self.eat(')') {
            return Ok((params, false));
        }
        if self.word_is("void") && self.toks.get(self.pos + 1) == Some(&Tok::Punct(')')) {
            self.pos += 2;
            return Ok((params, false));
        }
        loop {
            if self.peek() == Some(&Tok::Ellipsis) {
                self.pos += 1;
                self.expect(')')?;
                if params.is_empty() {
                    return Err("a variadic function needs at least one fixed parameter".into());
                }
                return Ok((params, true));
            }
            let p = self.param()?;
            if p.ty.scalar == Scalar::Void {
                return Err("a parameter cannot be void".into());
            }
            params.push(p);
            if self.eat(')') {
                return Ok((params, false));
            }
            self.expect(',')?;
        }
    }
}

/// Parse a pinned signature for `symbol`: `RET [NAME](PARAMS) [BOUND]`. A
/// function name, if given, must be `symbol`.
pub fn parse(text: &str, symbol: &str) -> Result<CSignature, String> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0 };
    let ret = p.ty()?;
    if let Some(Tok::Word(name)) = p.peek() {
        if name != symbol {
            return Err(format!(
                "the declaration names {name:?}, but it is pinned for {symbol:?}"
            ));
        }
        p.pos += 1;
    }
    p.expect('(')?;
    let (params, variadic) = p.params()?;
    let mut ret_bound = None;
    if p.eat('[') {
        if ret.pointer.is_none() {
            return Err("a result bound needs a pointer result".into());
        }
        ret_bound = Some(p.bound()?);
    }
    if p.pos != p.toks.len() {
        return Err(format!("unexpected {} after the declaration", p.describe()));
    }
    let sig = CSignature {
        ret,
        params,
        variadic,
        ret_bound,
    };
    for (i, param) in sig.params.iter().enumerate() {
        let refs = param.bound.iter().chain(&sig.ret_bound);
        for b in refs {
            for t in &b.0 {
                if let Term::Arg(k) = t {
                    let Some(target) = sig.params.get(*k) else {
                        return Err(format!(
                            "bound of parameter {} refers to ${}, but there are only {} parameters",
                            i + 1,
                            k + 1,
                            sig.params.len()
                        ));
                    };
                    if target.ty.pointer.is_some()
                        || matches!(
                            target.ty.scalar,
                            Scalar::Float32 | Scalar::Float64 | Scalar::LongDouble
                        )
                    {
                        return Err(format!("bound ${} must name an integer parameter", k + 1));
                    }
                }
            }
        }
    }
    if sig.params.iter().filter(|p| p.format).count() > 1 {
        return Err("at most one `format` parameter".into());
    }
    if sig.params.iter().any(|p| p.format) && !sig.variadic {
        return Err("a `format` parameter needs a variadic function".into());
    }
    Ok(sig)
}

/// How a scalar is spelled in messages.
pub fn scalar_name(s: Scalar) -> &'static str {
    match s {
        Scalar::Void => "void",
        Scalar::Uint8 => "uint8",
        Scalar::Sint8 => "sint8",
        Scalar::Uint16 => "uint16",
        Scalar::Sint16 => "sint16",
        Scalar::Uint32 => "uint32",
        Scalar::Sint32 => "sint32",
        Scalar::Uint64 => "uint64",
        Scalar::Sint64 => "sint64",
        Scalar::Float32 => "float32",
        Scalar::Float64 => "float64",
        Scalar::LongDouble => "long-double",
        Scalar::Pointer => "pointer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let s = parse("size_t strlen(const char *s)", "strlen").unwrap();
        assert_eq!(s.ret.scalar, Scalar::Uint64);
        assert!(s.params[0].ty.pointer.as_ref().unwrap().is_char);
        assert!(s.params[0].ty.pointer.as_ref().unwrap().is_const);
        let s = parse("void *(void *s [$3], int, size_t n)", "memset").unwrap();
        assert_eq!(s.params[0].bound, Some(Bound(vec![Term::Arg(2)])));
        let s = parse(
            "void qsort(void *base [$2*$3], size_t, size_t, int (*cmp)(const void *, const void *))",
            "qsort",
        )
        .unwrap();
        assert!(s.params[3].ty.pointer.as_ref().unwrap().is_function);
        let s = parse(
            "long strtol(const char *, char **end [1] nullable, int)",
            "strtol",
        )
        .unwrap();
        assert!(s.params[1].nullable);
        assert_eq!(s.params[1].ty.pointer.as_ref().unwrap().elem_size, 8);
        let s = parse(
            "int snprintf(char *[$2], size_t, const char *format format, ...)",
            "snprintf",
        )
        .unwrap();
        assert!(s.variadic && s.params[2].format);
        let s = parse("unsigned long long int f(unsigned, long double, void)", "f");
        assert!(s.is_err(), "void parameter");
        let s = parse("unsigned long long int f(unsigned, long double)", "f").unwrap();
        assert_eq!(s.ret.scalar, Scalar::Uint64);
        assert_eq!(s.params[0].ty.scalar, Scalar::Uint32);
        assert_eq!(s.params[1].ty.scalar, Scalar::LongDouble);
        assert_eq!(parse("double(void)", "f").unwrap().params.len(), 0);
    }

    #[test]
    fn rejects_bad_strings() {
        for bad in [
            "",
            "int",
            "int f(",
            "int g(int)",
            "strange f(int)",
            "int f(int [1])",
            "int f(char *[$3], int)",
            "int f(char *[$2], double)",
            "int f(int) trailing",
            "int f(const char *format format)",
            "int f(@)",
        ] {
            assert!(parse(bad, "f").is_err(), "{bad:?} parsed");
        }
    }
}
