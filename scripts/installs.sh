# Sourced, not run: `source scripts/installs.sh` gives the set-up scripts one
# way to install Debian packages (as root, or with sudo) and Rust targets, so
# that each of them stays idempotent and quiet when everything is there.
#
#   apt_install_missing TAG [--no-install-recommends] PACKAGE...
#       install those not installed yet; TAG prefixes the one line it prints
#   dpkg_add_architecture TAG DEB_ARCH
#       multiarch: let dpkg take DEB_ARCH packages (the next install updates
#       apt's index)
#   rustup_target_add TARGET
#       the Rust standard library for TARGET (nothing without rustup)

APT_SUDO=""
[ "$(id -u)" -eq 0 ] || APT_SUDO="sudo"
# Another apt (a second set-up script, the machine's own) may hold the lock.
APT_GET=(apt-get -o DPkg::Lock::Timeout=600)

apt_install_missing() {
    local tag="$1" pkg missing=() options=()
    shift
    if [ "${1:-}" = --no-install-recommends ]; then
        options+=("$1")
        shift
    fi
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "$tag: installing ${missing[*]}" >&2
    $APT_SUDO "${APT_GET[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive $APT_SUDO "${APT_GET[@]}" install -y -qq "${options[@]}" "${missing[@]}"
}

dpkg_add_architecture() {
    local tag="$1" deb="$2"
    [ "$(dpkg --print-architecture)" != "$deb" ] || return 0
    # Not a pipe into `grep -q`: under pipefail, dpkg killed by SIGPIPE would read as "absent".
    case " $(dpkg --print-foreign-architectures | tr '\n' ' ') " in *" $deb "*) return 0 ;; esac
    echo "$tag: adding the $deb architecture to dpkg" >&2
    $APT_SUDO dpkg --add-architecture "$deb"
}

rustup_target_add() {
    command -v rustup >/dev/null || return 0
    case " $(rustup target list --installed | tr '\n' ' ') " in *" $1 "*) return 0 ;; esac
    rustup target add "$1"
}
