#!/usr/bin/env bash
# Deploys cutover's template.yaml to a running LocalStack:
#
#   1. builds every function the template names (CodeUri: functions/<name>/)
#      with `go build`, for the Docker host's architecture;
#   2. packages and deploys the template with the aws CLI (cloudformation
#      package + deploy), SiteUrl/AllowedOrigin pointing at the locally
#      served site;
#   3. verifies the sender address in SES;
#   4. writes the stack outputs to localstack/.outputs.env and a copy of the
#      site with its config.js to localstack/.site/.
#
# Start LocalStack first (docker compose -f localstack/docker-compose.yml up -d).
# Settings, all optional: STACK_NAME, AWS_REGION, SITE_PORT, SITE_URL,
# SENDER_EMAIL, OPS_JWT_ISSUER, OPS_JWT_AUDIENCE, LAMBDA_GOARCH,
# LOCALSTACK_ENDPOINT. See README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

endpoint=${LOCALSTACK_ENDPOINT:-http://localhost:4566}    # where the aws CLI reaches LocalStack
public_host=localhost.localstack.cloud:4566                # what a browser reaches (resolves to 127.0.0.1)
stack=${STACK_NAME:-cutover}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
site_port=${SITE_PORT:-8080}
site_url=${SITE_URL:-http://localhost:$site_port}
sender=${SENDER_EMAIL:-migrations@cutover.example.com}
artifacts_bucket=${ARTIFACTS_BUCKET:-cutover-localstack-artifacts}
build_dir=$here/.build
site_dir=$here/.site
outputs_file=$here/.outputs.env

# The aws CLI runs with settings of its own, not the caller's ~/.aws: fixed
# test credentials (LocalStack accepts any, and a slip can then never reach
# a real account with the caller's keys), LocalStack as the endpoint of every
# service (AWS_ENDPOINT_URL; `cloudformation package` ignores --endpoint-url
# for its uploads), and path-style S3 addresses, which need no DNS.
aws_config=$(mktemp)
trap 'rm -f "$aws_config"' EXIT
printf '[default]\nregion = %s\ns3 =\n  addressing_style = path\n' "$region" >"$aws_config"
export AWS_CONFIG_FILE=$aws_config AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=$region AWS_ENDPOINT_URL=$endpoint
unset AWS_SESSION_TOKEN AWS_PROFILE

die() {
  echo "deploy.sh: $*" >&2
  exit 1
}

awsls() {
  aws --endpoint-url "$endpoint" --region "$region" "$@"
}

check_prerequisites() {
  local tool
  for tool in go aws curl; do
    command -v "$tool" >/dev/null || die "$tool is not installed (see localstack/README.md, Prerequisites)."
  done
  local i
  for i in $(seq 1 30); do
    if curl -fsS "$endpoint/_localstack/health" >/dev/null 2>&1; then
      return 0
    fi
    [ "$i" = 1 ] && echo "waiting for LocalStack at $endpoint ..."
    sleep 2
  done
  die "LocalStack is not answering at $endpoint. Start it: docker compose -f localstack/docker-compose.yml up -d"
}

# The Go architecture of the machine Docker runs containers on.
lambda_goarch() {
  local arch=${LAMBDA_GOARCH:-}
  if [ -z "$arch" ] && command -v docker >/dev/null; then
    arch=$(docker info --format '{{.Architecture}}' 2>/dev/null) || arch=
    arch=${arch//[[:space:]]/}
  fi
  [ -n "$arch" ] || arch=$(uname -m)
  case $arch in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "unknown architecture '$arch'; set LAMBDA_GOARCH=amd64 or arm64" ;;
  esac
}

# The function directories the template names, one per line.
template_functions() {
  local uris names
  uris=$(grep -cE '^[[:space:]]+CodeUri:' "$root/template.yaml" || true)
  names=$(sed -nE 's|^[[:space:]]+CodeUri:[[:space:]]*functions/([A-Za-z0-9_-]+)/?[[:space:]]*$|\1|p' "$root/template.yaml")
  [ -n "$names" ] || die "template.yaml names no CodeUri: functions/<name>/"
  [ "$(printf '%s\n' "$names" | wc -l)" -eq "$uris" ] ||
    die "template.yaml has a CodeUri that is not functions/<name>/; deploy.sh builds only those"
  printf '%s\n' "$names"
}

# Builds each function to .build/functions/<name>/bootstrap beside a copy of
# the template, so the template's relative CodeUri and DefinitionUri paths
# point at the binaries and the state machine definition unchanged.
build() {
  local goarch fn
  goarch=$(lambda_goarch)
  rm -rf "$build_dir"
  mkdir -p "$build_dir"
  cp "$root/template.yaml" "$build_dir/template.yaml"
  cp -R "$root/statemachine" "$build_dir/statemachine"
  for fn in $(template_functions); do
    echo "building functions/$fn for linux/$goarch"
    (cd "$root" && GOOS=linux GOARCH=$goarch CGO_ENABLED=0 \
      go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$build_dir/functions/$fn/bootstrap" "./functions/$fn")
  done
}

deploy_stack() {
  local origin
  origin=$(printf '%s' "$site_url" | sed -E 's|^([A-Za-z][A-Za-z0-9+.-]*://[^/]+).*|\1|')
  local params=("SiteUrl=$site_url" "AllowedOrigin=$origin" "SenderEmail=$sender")
  [ -n "${OPS_JWT_ISSUER:-}" ] && params+=("OpsJwtIssuer=$OPS_JWT_ISSUER")
  [ -n "${OPS_JWT_AUDIENCE:-}" ] && params+=("OpsJwtAudience=$OPS_JWT_AUDIENCE")

  awsls s3api head-bucket --bucket "$artifacts_bucket" >/dev/null 2>&1 ||
    awsls s3 mb "s3://$artifacts_bucket" >/dev/null
  awsls cloudformation package \
    --template-file "$build_dir/template.yaml" \
    --s3-bucket "$artifacts_bucket" --s3-prefix "$stack" \
    --output-template-file "$build_dir/packaged.yaml" >/dev/null

  echo "deploying stack $stack (SiteUrl=$site_url, AllowedOrigin=$origin)"
  if ! awsls cloudformation deploy \
    --template-file "$build_dir/packaged.yaml" \
    --stack-name "$stack" \
    --s3-bucket "$artifacts_bucket" --s3-prefix "$stack" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --no-fail-on-empty-changeset \
    --parameter-overrides "${params[@]}"; then
    echo "The deploy failed. Failed resources:" >&2
    # shellcheck disable=SC2016 # the backticks are a JMESPath literal, not a command
    awsls cloudformation describe-stack-events --stack-name "$stack" \
      --query 'StackEvents[?contains(ResourceStatus, `FAILED`)].[LogicalResourceId,ResourceStatusReason]' \
      --output text >&2 || true
    exit 1
  fi
}

verify_sender() {
  # LocalStack refuses mail from an unverified sender and verifies at once.
  awsls ses verify-email-identity --email-address "$sender"
}

# The HTTP API's address on LocalStack. The template's ApiUrl output names
# the AWS host, which does not exist here.
local_api_url() {
  local id
  id=$(awsls cloudformation describe-stack-resources --stack-name "$stack" \
    --logical-resource-id CutoverApi --query 'StackResources[0].PhysicalResourceId' --output text)
  if [ -z "$id" ] || [ "$id" = None ]; then
    die "the stack has no CutoverApi resource"
  fi
  echo "http://$id.execute-api.$public_host"
}

write_outputs() {
  local api_url=$1 outputs functions key value
  outputs=$(awsls cloudformation describe-stacks --stack-name "$stack" \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text)
  functions=$(awsls cloudformation describe-stack-resources --stack-name "$stack" \
    --query "StackResources[?ResourceType=='AWS::Lambda::Function'].[LogicalResourceId,PhysicalResourceId]" --output text)
  if [ -z "$outputs" ] || [ "$outputs" = None ]; then
    die "stack $stack has no outputs"
  fi
  {
    echo "# Written by localstack/deploy.sh for stack $stack on LocalStack ($endpoint)."
    echo "# ApiUrl is the HTTP API's LocalStack address; <Function>Name are the deployed function names."
    while IFS=$'\t' read -r key value; do
      [ "$key" = ApiUrl ] && value=$api_url
      printf '%s=%s\n' "$key" "$value"
    done <<<"$outputs"
    while IFS=$'\t' read -r key value; do
      [ -n "$key" ] && printf '%sName=%s\n' "$key" "$value"
    done <<<"$functions"
    printf 'SiteUrl=%s\n' "$site_url"
    printf 'SenderEmail=%s\n' "$sender"
    printf 'AWS_ENDPOINT_URL=%s\n' "$endpoint"
    printf 'AWS_REGION=%s\n' "$region"
  } >"$outputs_file"
}

# The built site (make frontend) with the config.js that points it at the
# LocalStack API (the Go dev server answers /config.js itself).
write_site() {
  local api_url=$1
  make -C "$root" frontend >/dev/null
  rm -rf "$site_dir"
  mkdir -p "$site_dir"
  cp -R "$root/frontend/dist/." "$site_dir/"
  printf 'window.CUTOVER = {"apiBase": "%s"};\n' "$api_url" >"$site_dir/config.js"
}

main() {
  check_prerequisites
  build
  verify_sender
  deploy_stack
  local api_url
  api_url=$(local_api_url)
  write_outputs "$api_url"
  write_site "$api_url"
  cat <<EOF

Deployed stack $stack.
  API:      $api_url
  Outputs:  ${outputs_file#"$root"/}
  Site:     python3 -m http.server $site_port --bind 127.0.0.1 --directory ${site_dir#"$root"/}
            then open $site_url/
  Mail:     curl -s 'http://$public_host/_aws/ses?email=$sender'
EOF
}

# Sourcing the script (for a test) defines the functions without running them.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
