//! C `long double` crosses as its in-memory bytes; Python sees a float. The
//! host's format decides the encoding: x87 80-bit extended on x86, IEEE
//! binary128 elsewhere when 16 bytes wide, plain double when 8 bytes wide.

use super::platform::facts;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Double,
    X87Extended,
    Binary128,
}

pub fn format() -> Format {
    let f = facts();
    let size = f.c_type("long double").size;
    match (size, f.raw.arch.as_str()) {
        (8, _) => Format::Double,
        (_, "x86" | "x86_64") => Format::X87Extended,
        _ => Format::Binary128,
    }
}

pub fn size() -> usize {
    facts().c_type("long double").size as usize
}

pub fn encode(value: f64) -> Vec<u8> {
    let mut out = vec![0u8; size()];
    match format() {
        Format::Double => out[..8].copy_from_slice(&value.to_le_bytes()),
        Format::X87Extended => {
            let (mantissa, sign_exp) = to_x87(value);
            out[..8].copy_from_slice(&mantissa.to_le_bytes());
            out[8..10].copy_from_slice(&sign_exp.to_le_bytes());
        }
        Format::Binary128 => out[..16].copy_from_slice(&to_binary128(value).to_le_bytes()),
    }
    out
}

pub fn decode(bytes: &[u8]) -> f64 {
    // Short input (a host reply without its bytes) reads as zeros rather
    // than aborting the guest: a panic here would end the run.
    let mut raw = [0u8; 16];
    let n = bytes.len().min(16);
    raw[..n].copy_from_slice(&bytes[..n]);
    match format() {
        Format::Double => f64::from_le_bytes([
            raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
        ]),
        Format::X87Extended => from_x87(
            u64::from_le_bytes([
                raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
            ]),
            u16::from_le_bytes([raw[8], raw[9]]),
        ),
        Format::Binary128 => from_binary128(u128::from_le_bytes(raw)),
    }
}

/// Normalised significand (leading 1 at bit 52 of the result) and unbiased
/// exponent of a finite non-zero double.
fn split(value: f64) -> (u64, i32) {
    let bits = value.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    if exp == 0 {
        // Subnormal: shift the leading 1 up to bit 52.
        let shift = frac.leading_zeros() as i32 - 11;
        (frac << shift, -1022 - shift)
    } else {
        (frac | (1 << 52), exp - 1023)
    }
}

fn to_x87(value: f64) -> (u64, u16) {
    let sign = if value.is_sign_negative() {
        0x8000u16
    } else {
        0
    };
    if value == 0.0 {
        return (0, sign);
    }
    if value.is_infinite() {
        return (1 << 63, sign | 0x7fff);
    }
    if value.is_nan() {
        return (0xc000_0000_0000_0000, sign | 0x7fff);
    }
    let (significand, exp) = split(value);
    (significand << 11, sign | (exp + 16383) as u16)
}

fn from_x87(mantissa: u64, sign_exp: u16) -> f64 {
    let sign = if sign_exp & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from(sign_exp & 0x7fff);
    if exp == 0x7fff {
        return if mantissa << 1 == 0 {
            sign * f64::INFINITY
        } else {
            f64::NAN
        };
    }
    if mantissa == 0 {
        return sign * 0.0;
    }
    sign * scale(mantissa as f64, exp - 16383 - 63)
}

fn to_binary128(value: f64) -> u128 {
    let sign = u128::from(value.is_sign_negative()) << 127;
    if value == 0.0 {
        return sign;
    }
    if value.is_infinite() {
        return sign | (0x7fff << 112);
    }
    if value.is_nan() {
        return sign | (0x7fff << 112) | (1 << 111);
    }
    let (significand, exp) = split(value);
    let frac = u128::from(significand & ((1 << 52) - 1)) << 60;
    sign | (((exp + 16383) as u128) << 112) | frac
}

fn from_binary128(bits: u128) -> f64 {
    let sign = if bits >> 127 != 0 { -1.0 } else { 1.0 };
    let exp = ((bits >> 112) & 0x7fff) as i32;
    let frac = bits & ((1 << 112) - 1);
    if exp == 0x7fff {
        return if frac == 0 {
            sign * f64::INFINITY
        } else {
            f64::NAN
        };
    }
    if exp == 0 && frac == 0 {
        return sign * 0.0;
    }
    let (significand, exp) = if exp == 0 {
        (frac, -16382)
    } else {
        (frac | (1 << 112), exp - 16383)
    };
    sign * scale(significand as f64, exp - 112)
}

/// `x * 2^n` without overflowing or flushing to zero in between.
fn scale(mut x: f64, mut n: i32) -> f64 {
    while n > 1000 {
        x *= 2f64.powi(1000);
        n -= 1000;
    }
    while n < -1000 {
        x *= 2f64.powi(-1000);
        n += 1000;
    }
    x * 2f64.powi(n)
}
