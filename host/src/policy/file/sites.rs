//! `[[site]]` entries: directories of installed packages (a `pip install
//! --target` directory or a virtual environment) made importable read-only,
//! as `--site` and `--venv` do.
//!
//! ```toml
//! [[site]]
//! path = "packages"      # relative to this file, or absolute
//! guest = "/site"        # optional: where the guest sees it (default: its own path)
//! venv = false           # true: path is a virtual environment
//! libraries = true       # grant the native libraries under it (trusted), as
//!                        # [[library]] name = "<the directory>" would
//! ```

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{toml_str, Source};
use crate::policy::Policy;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSite {
    path: Spanned<String>,
    guest: Option<Spanned<String>>,
    #[serde(default)]
    venv: bool,
    #[serde(default)]
    libraries: bool,
}

/// Apply a file's `[[site]]` entries; host paths are relative to `here`.
pub(super) fn apply(
    mut policy: Policy,
    sites: Vec<FileSite>,
    here: &Path,
    src: &Source<'_>,
) -> anyhow::Result<Policy> {
    for site in sites {
        let given = Path::new(site.path.get_ref());
        let host = if given.is_absolute() {
            given.to_owned()
        } else {
            here.join(given)
        };
        let applied = if site.venv {
            if site.guest.is_some() {
                return Err(src.error_at(
                    site.path.span(),
                    "a virtual environment is mounted at its own path (no guest = ...)",
                ));
            }
            policy.venv(&host)
        } else {
            policy.site_dir_at(&host, site.guest.as_ref().map(|g| g.get_ref().as_str()))
        };
        policy = applied.map_err(|e| src.error_at(site.path.span(), format!("{e:#}")))?;
        if site.libraries {
            // the directory the site just mounted (a venv's site-packages)
            let mounted = policy.sites().last().and_then(|guest| {
                policy
                    .preopens()
                    .iter()
                    .find(|d| &d.guest == guest)
                    .map(|d| d.host.clone())
            });
            if let Some(dir) = mounted {
                policy = policy
                    .try_allow_library(&dir.to_string_lossy())
                    .map_err(|e| src.error_at(site.path.span(), format!("{e:#}")))?;
            }
        }
    }
    Ok(policy)
}

/// `[[site]]` entries of `policy show`: the site's preopen, by guest path.
pub(super) fn write_toml(policy: &Policy, out: &mut String) {
    for guest in policy.sites() {
        let Some(dir) = policy.preopens().iter().find(|d| &d.guest == guest) else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n[[site]]\npath = {}\nguest = {}",
            toml_str(&dir.host.to_string_lossy()),
            toml_str(guest)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmffi-sites-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_site_entry_is_a_read_only_preopen_on_the_module_path() {
        let dir = temp_dir("file");
        std::fs::create_dir_all(dir.join("pkgs")).unwrap();
        std::fs::create_dir_all(dir.join("venv/lib/python3.11/site-packages")).unwrap();
        let file = dir.join("policy.toml");
        std::fs::write(
            &file,
            "[[site]]\npath = \"pkgs\"\nguest = \"/site\"\nlibraries = true\n\n\
             [[site]]\npath = \"venv\"\nvenv = true\n",
        )
        .unwrap();
        let policy = Policy::from_file(&file).unwrap();
        let venv_site = dir
            .join("venv/lib/python3.11/site-packages")
            .canonicalize()
            .unwrap();
        assert_eq!(
            policy.sites(),
            ["/site".to_owned(), venv_site.to_string_lossy().into_owned()]
        );
        let site = policy
            .preopens()
            .iter()
            .find(|d| d.guest == "/site")
            .unwrap();
        assert!(!site.writable);
        assert_eq!(site.host, dir.join("pkgs").canonicalize().unwrap());
        assert_eq!(
            policy.libraries(),
            [crate::policy::LibraryRule::Dir(site.host.clone())],
            "libraries = true grants the site's libraries, the venv's are not"
        );

        // `policy show` prints them as [[site]] entries that read back the same
        let shown = policy.to_toml();
        assert!(
            shown.contains("[[site]]") && !shown.contains("[[dir]]"),
            "{shown}"
        );
        let again = dir.join("again.toml");
        std::fs::write(&again, &shown).unwrap();
        assert_eq!(Policy::from_file(&again).unwrap().sites(), policy.sites());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_site_is_an_error_at_its_line() {
        let dir = temp_dir("missing");
        let file = dir.join("policy.toml");
        std::fs::write(&file, "\n[[site]]\npath = \"nowhere\"\n").unwrap();
        let err = format!("{:#}", Policy::from_file(&file).unwrap_err());
        assert!(err.contains("policy.toml:3:"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
