# Sourced by the setup scripts: install Debian packages that are missing, running `apt-get update`
# at most once per test run (the machines start with stale package lists).
ensure_debian_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "==> Installing ${missing[*]}"
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  if [ -z "${RAG_APT_UPDATED:-}" ]; then
    "${sudo_cmd[@]}" apt-get update -qq
    export RAG_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
}
