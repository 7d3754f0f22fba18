#!/bin/sh
# Installs Debian's nginx for the deployment tests and the mixed-load benchmark. The tests run
# nginx themselves, as a foreground child with its own prefix and temp folders: the package's
# system service is kept from starting during the install (invoke-rc.d's policy-rc.d hook) and is
# never used.
set -e
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "nginx is missing: run 'sudo apt-get install nginx' (the deployment tests start it themselves)" >&2
    exit 1
fi
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# added by coderef scripts/install-nginx.sh while nginx installs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq nginx >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }
