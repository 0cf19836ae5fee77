#!/bin/bash
# shim_sendfile: a Python file server that sends with sendfile(2) under
# dptcp-run; curl in the peer namespace fetches a 64 MiB file twice:
# through a blocking socket (socket.sendfile: the offset-pointer form) and
# through a non-blocking one (os.sendfile at the file position in a select
# loop: partial sends and EAGAIN, file position = bytes sent). Both SHA-256
# equal; sendfile's argument errors are Linux's (negative offset EINVAL,
# write-only file EBADF, offset at EOF and count 0 return 0).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_sendfile
dpt_need curl
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 1000"   # the server closes first
www="$DPT_TMP/www"
mkdir -p "$www"
head -c $((64 << 20)) /dev/urandom >"$www/big.bin"
echo "small file" >"$www/small.txt"
want=$(sha256sum "$www/big.bin" | cut -d' ' -f1)

shim_bg "$DPT_PY" -u "$SHIM_DIR/sendfile_server.py" "$DP_IP" 8090 "$www" \
	"$DPT_TMP/ready" >"$DPT_TMP/server.log" 2>&1
shim_wait_file "$DPT_TMP/ready" "the sendfile server"

for kind in block nb; do
	got=$(dpt_peer curl -sS --max-time 180 "http://$DP_IP:8090/$kind/big.bin" |
		sha256sum | cut -d' ' -f1)
	[[ $got == "$want" ]] ||
		dpt_fail "/$kind/big.bin: sha256 $got, expected $want; server: $(cat "$DPT_TMP/server.log")"
	dpt_log "GET /$kind/big.bin: 64 MiB, sha256 equal"
done
dpt_peer curl -sS --max-time 10 "http://$DP_IP:8090/quit" >/dev/null 2>&1 || true
for ((i = 0; i < 100; i++)); do
	kill -0 "$SHIM_BG_PID" 2>/dev/null || break
	sleep 0.1
done
sed 's/^/    server: /' "$DPT_TMP/server.log"
expect=("check: negative offset: EINVAL" "check: offset at EOF: 0" "check: count 0: 0"
	"check: write-only file: EBADF" "block: 67108864 bytes with socket.sendfile"
	"nb: 67108864 bytes")
for line in "${expect[@]}"; do
	grep -qF "$line" "$DPT_TMP/server.log" || dpt_fail "server log lacks '$line'"
done
dpt_log "sendfile's errors as Linux's; blocking and non-blocking sends complete"

shim_check_clean
