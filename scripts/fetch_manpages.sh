#!/usr/bin/env bash
# Fetch the manual pages of the documentation index: each Debian package of
# inversion_tui/manuals/debian_packages.txt is downloaded with `apt-get download` (no install, no
# root needed) and only its English pages of sections 1 and 8 are kept, under
# DEST/<package>/ with the package's version in DEST/<package>.version.
# The project's Python never starts a process (tests/test_architecture.py): this step is here.
# Without apt-get (not a Debian or Ubuntu machine) or without its package lists, it says so and
# exits 0: `inversion-tui docs --build` then indexes what it has, the system's own pages with
# --system, and `docs --coverage` says which index it is.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:?usage: fetch_manpages.sh DEST}"
list="$here/inversion_tui/manuals/debian_packages.txt"
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "manual pages: apt-get or dpkg-deb not found; the documentation index is built from this machine's own pages (inversion-tui docs --build --system)"
  exit 0
fi
mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 1777 "$work"  # apt's sandbox user (_apt) writes the downloads; sticky, as /tmp is
fetched=0; missing=()
while read -r package; do
  case "$package" in ''|\#*) continue ;; esac
  if [ -f "$dest/$package.version" ]; then fetched=$((fetched + 1)); continue; fi
  if ! (cd "$work" && apt-get download -q "$package" >/dev/null 2>&1); then
    missing+=("$package"); continue
  fi
  deb=$(ls "$work"/"${package}"_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { missing+=("$package"); continue; }
  mkdir -p "$work/x"
  dpkg-deb -x "$deb" "$work/x"
  rm -rf "${dest:?}/$package"; mkdir -p "$dest/$package"
  for section in man1 man8; do
    if [ -d "$work/x/usr/share/man/$section" ]; then
      mkdir -p "$dest/$package/$section"
      cp -a "$work/x/usr/share/man/$section/." "$dest/$package/$section/"
    fi
  done
  dpkg-deb -f "$deb" Version > "$dest/$package.version"
  rm -rf "$work/x" "$deb"
  fetched=$((fetched + 1))
done < "$list"
echo "manual pages: $fetched packages in $dest"
if [ ${#missing[@]} -gt 0 ]; then
  echo "manual pages: could not fetch ${missing[*]} (no network, or not in this machine's package lists: 'apt-get update' may help)"
fi
exit 0
