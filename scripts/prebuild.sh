#!/usr/bin/env bash
# prebuild.sh: builds a repository's dev container image with the devcontainer reference CLI (its image or Dockerfile,
# and its features), pushes it to a registry under two tags (the commit, and the devcontainer.json's hash), and
# registers it with CloudDevEnv, whose launches of that repository and ref then start from it. The steps of
# .github/workflows/devcontainer-prebuild.yml, which runs this script; the tests run it the same way.
#
#   scripts/prebuild.sh --workspace-folder DIR --image REGISTRY/NAME --repo-url URL
#                       [--ref BRANCH] [--default-branch BRANCH] [--config PATH] [--api URL]
#
#   --workspace-folder  the repository's checkout (a git work tree)
#   --image             where to push, without a tag (e.g. ghcr.io/octo/app/devcontainer)
#   --repo-url          the repository's URL as users launch it (the registration's key)
#   --ref               the branch built; without it, the registration is the default branch's
#   --default-branch    the repository's default branch: when --ref is it, the image is registered for launches
#                       without a ref too
#   --config            devcontainer.json, relative to the folder (default: .devcontainer/devcontainer.json, else
#                       .devcontainer.json, the order the platform reads them in)
#   --api               CloudDevEnv's API (e.g. https://api.dev.example.com); without it nothing is registered.
#                       The token is read from CLOUDDEVENV_TOKEN: an API token of a user in Api:PrebuildPublishers.
#
# The CLI is $DEVCONTAINER, else `devcontainer` on PATH, else the one scripts/install-node-tools.sh installs.
# Prints the pushed image by digest (REGISTRY/NAME@sha256:...) on its last line.
set -euo pipefail

say() { echo "prebuild: $*" >&2; }
fail() { say "$*"; exit 1; }

folder="" image="" repo_url="" ref="" default_branch="" config="" api=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workspace-folder|--image|--repo-url|--ref|--default-branch|--config|--api)
      [[ $# -ge 2 && -n "$2" ]] || fail "$1 needs a value"
      case "$1" in
        --workspace-folder) folder=$2 ;; --image) image=$2 ;; --repo-url) repo_url=$2 ;; --ref) ref=$2 ;;
        --default-branch) default_branch=$2 ;; --config) config=$2 ;; --api) api=${2%/} ;;
      esac
      shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) fail "unknown argument '$1' (see $0 --help)" ;;
  esac
done
[[ -n "$folder" ]] || fail "--workspace-folder is required: the repository's checkout"
[[ -n "$image" ]] || fail "--image is required: where to push the image, e.g. ghcr.io/octo/app/devcontainer"
[[ -n "$repo_url" ]] || fail "--repo-url is required: the repository's URL as users launch it"
[[ -d "$folder" ]] || fail "the workspace folder '$folder' does not exist"
folder=$(cd "$folder" && pwd)
# A reference without a tag or digest: the tags are this script's to give. Lower case: registries refuse upper case.
[[ "$image" =~ ^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$ ]] \
  || fail "--image '$image' must be a lower-case repository reference without a tag, e.g. ghcr.io/octo/app/devcontainer"
for value in "$repo_url" "$ref" "$default_branch"; do
  [[ "$value" != *[\"\\[:cntrl:]]* ]] || fail "'$value' holds a quote, backslash or control character"
done
if [[ -n "$api" && -z "${CLOUDDEVENV_TOKEN:-}" ]]; then
  fail "--api is given but CLOUDDEVENV_TOKEN is empty: create an API token as a user in Api:PrebuildPublishers (POST /api/tokens) and keep it as a CI secret"
fi

if [[ -z "$config" ]]; then
  for candidate in .devcontainer/devcontainer.json .devcontainer.json; do
    [[ -f "$folder/$candidate" ]] && { config=$candidate; break; }
  done
  [[ -n "$config" ]] || fail "no devcontainer.json in $folder (looked for .devcontainer/devcontainer.json and .devcontainer.json); name one with --config"
fi
[[ -f "$folder/$config" ]] || fail "--config '$config' is not a file in $folder"

cli=${DEVCONTAINER:-}
if [[ -z "$cli" ]]; then
  cli=$(command -v devcontainer || true)
  [[ -n "$cli" ]] || cli="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/devcontainer-cli/node_modules/.bin/devcontainer"
fi
[[ -x "$cli" ]] || fail "the devcontainer CLI is not installed (npm install --global @devcontainers/cli, or set DEVCONTAINER)"
command -v docker >/dev/null || fail "docker is not on PATH"

commit=$(git -C "$folder" rev-parse HEAD 2>/dev/null) || fail "$folder is not a git checkout with a commit"
# The platform compares this with the SHA-256 of the devcontainer.json a launch reads: the same bytes as committed.
hash=$(sha256sum "$folder/$config" | cut -d' ' -f1)
by_commit="$image:$commit"
by_config="$image:config-${hash:0:20}"

say "building $config of $folder at $commit (devcontainer CLI $("$cli" --version))"
"$cli" build --workspace-folder "$folder" --config "$folder/$config" --image-name "$by_commit" --image-name "$by_config" >&2 \
  || fail "the devcontainer CLI could not build the image (its output is above)"

for tag in "$by_commit" "$by_config"; do
  say "pushing $tag"
  docker push "$tag" >&2 || fail "pushing $tag failed: is the registry up, and is this machine signed in to it (docker login)?"
done
digest=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$by_commit" | grep -m1 -F "$image@") \
  || fail "the registry gave $by_commit no digest"
say "pushed $digest"

register() { # ref-or-empty
  local body status response
  body="{\"repoUrl\":\"$repo_url\",\"image\":\"$digest\",\"configHash\":\"$hash\""
  [[ -n "$1" ]] && body+=",\"ref\":\"$1\""
  body+="}"
  response=$(mktemp)
  status=$(curl -sS -o "$response" -w '%{http_code}' -X POST "$api/api/prebuilds" \
    -H "Authorization: Bearer $CLOUDDEVENV_TOKEN" -H 'Content-Type: application/json' --data "$body") \
    || { rm -f "$response"; fail "the API at $api could not be reached"; }
  if [[ "$status" != 201 ]]; then
    say "registering at $api was refused (HTTP $status):"
    cat "$response" >&2; echo >&2
    rm -f "$response"
    exit 1
  fi
  rm -f "$response"
  say "registered for $repo_url at ${1:-the default branch}"
}

if [[ -n "$api" ]]; then
  if [[ -z "$ref" || "$ref" == "$default_branch" ]]; then
    register ""
  fi
  [[ -n "$ref" ]] && register "$ref"
else
  say "not registered (no --api)"
fi
echo "$digest"
