#!/usr/bin/env bash
# Checks the deployment recipes with the tools that read them (`make deploy-check`, run by .ci/run):
#   - systemd units:  systemd-analyze verify (any complaint fails, not only errors)
#   - nginx site:     nginx -t, inside a throwaway http { } with a self-signed certificate
#   - commands:       every meetbot command line in the units and the Procfile parses with the
#                     real CLI (`meetbot <command> <options> --help`: an unknown option fails)
# Needs systemd-analyze (Debian: systemd), nginx and openssl. MEETBOT names the meetbot executable
# to check against (default: .venv/bin/meetbot).
set -euo pipefail
cd "$(dirname "$0")/.."
MEETBOT="$(realpath "${MEETBOT:-.venv/bin/meetbot}")"
INSTALLED_MEETBOT=/opt/meetbot/venv/bin/meetbot  # where the units expect it
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "deploy-check: FAIL $*" >&2
  failures=$((failures + 1))
}

ok() {
  echo "deploy-check: ok   $*"
}

for tool in systemd-analyze nginx openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deploy-check: $tool is missing" >&2; exit 2; }
done
[ -x "$MEETBOT" ] || { echo "deploy-check: no meetbot at $MEETBOT (set MEETBOT)" >&2; exit 2; }

# A command line of meetbot ("meetbot serve --no-worker ...") must parse with the real CLI.
check_command() {
  local where="$1" line="$2" words
  line="${line//\$PORT/8000}"
  read -r -a words <<<"$line"
  if [ "${words[0]##*/}" != meetbot ]; then
    fail "$where: '$line' does not run meetbot"
    return
  fi
  if out="$("$MEETBOT" "${words[@]:1}" --help 2>&1 >/dev/null)"; then
    ok "$where: ${line}"
  else
    out="$(sed -E 's/│|╭|╮|╰|╯|─//g' <<<"$out" | tr -s '\n ' ' ')"  # typer's error box, on one line
    fail "$where: '$line' does not parse:${out}"
  fi
}

# systemd units: verified as written, with ExecStart pointing at this checkout's meetbot (verify
# wants the executable to exist). The user, the environment file and the folders need not.
mkdir -p "$work/units"
for unit in deploy/systemd/*.service; do
  name="$(basename "$unit")"
  target="$name"
  [[ "$name" == *@.service ]] && target="${name%@.service}@1.service"
  sed "s#${INSTALLED_MEETBOT}#${MEETBOT}#g" "$unit" >"$work/units/$name"
  grep -q "^ExecStart=${INSTALLED_MEETBOT} " "$unit" || fail "$name: ExecStart is not ${INSTALLED_MEETBOT}"
  while IFS= read -r exec; do
    check_command "$name" "${exec#*=}"
  done < <(grep -E '^Exec(Start|StartPre|StartPost|Reload)=' "$unit")
  if out="$(cd "$work/units" && systemd-analyze verify --man=no --generators=no "$target" 2>&1)" \
    && [ -z "$out" ]; then
    ok "$name: systemd-analyze verify"
  else
    fail "$name: systemd-analyze verify: $out"
  fi
done

# nginx: the site inside a minimal nginx.conf, its certificate paths pointing at a certificate made
# now, its logs and temporary files in the throwaway folder.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=meetbot.example.com \
  -keyout "$work/privkey.pem" -out "$work/fullchain.pem" >/dev/null 2>&1
sed -E "s#/etc/letsencrypt/live/[^/]+/#${work}/#g" deploy/nginx/meetbot.conf >"$work/site.conf"
if [ "$(id -u)" -ne 0 ]; then  # nginx -t binds the ports: without root, unprivileged ones
  sed -i -E 's/(listen +(\[::\]:)?)80([ ;])/\118080\3/; s/(listen +(\[::\]:)?)443([ ;])/\118443\3/' \
    "$work/site.conf"
fi
cat >"$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/error.log;
events {}
http {
    access_log $work/access.log;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/site.conf;
}
CONF
if out="$(nginx -t -q -p "$work" -c "$work/nginx.conf" 2>&1)" && [ -z "$out" ]; then
  ok "nginx/meetbot.conf: nginx -t"
else
  fail "nginx/meetbot.conf: nginx -t: $out"
fi

# The site's limits match meetbot's own: client_max_body_size is the largest route cap and the
# header buffers hold meetbot's largest request head.
python="$(dirname "$MEETBOT")/python"
if caps="$("$python" -c '
from app.settings import Settings
from app.web import body_limits
settings = Settings.model_construct()  # the defaults, whatever .env says
print(max(body_limits(settings).caps.values()) // 1024, settings.server_max_header_bytes // 1024)
' 2>&1)"; then
  read -r body_cap header_cap <<<"$caps"
  site=deploy/nginx/meetbot.conf
  if grep -Eq "^\s*client_max_body_size\s+${body_cap}k;" "$site"; then
    ok "nginx/meetbot.conf: client_max_body_size ${body_cap}k, meetbot's largest body cap"
  else
    fail "nginx/meetbot.conf: client_max_body_size is not ${body_cap}k, meetbot's largest body cap"
  fi
  if grep -Eq "^\s*large_client_header_buffers\s+[0-9]+\s+${header_cap}k;" "$site"; then
    ok "nginx/meetbot.conf: large_client_header_buffers ${header_cap}k, MEETBOT_SERVER_MAX_HEADER_BYTES"
  else
    fail "nginx/meetbot.conf: large_client_header_buffers is not ${header_cap}k (MEETBOT_SERVER_MAX_HEADER_BYTES)"
  fi
else
  fail "meetbot's body and header caps could not be read: ${caps//$'\n'/ }"
fi

# Procfile: "name: command" lines, each a meetbot command the CLI takes.
while IFS= read -r entry; do
  [[ -z "$entry" || "$entry" == \#* ]] && continue
  if [[ ! "$entry" =~ ^[a-z][a-z0-9_-]*:\ (.+)$ ]]; then
    fail "Procfile: '$entry' is not 'name: command'"
    continue
  fi
  check_command Procfile "${BASH_REMATCH[1]}"
done <Procfile

if [ "$failures" -gt 0 ]; then
  echo "deploy-check: $failures problem(s)" >&2
  exit 1
fi
echo "deploy-check: all recipes check out"
