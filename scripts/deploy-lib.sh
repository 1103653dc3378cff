# Shared by scripts/deploy-test and scripts/check-deploy (sourced): the files of deploy/ made
# runnable by an unprivileged user on loopback ports. Only addresses, ports and paths change; a
# substitution that finds nothing fails, so a change in deploy/ cannot leave the tests running
# something else than what ships.

# N free loopback TCP ports, on one line.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
}

# render_nginx SHIPPED_CONF DIR PORT SERVE1_PORT SERVE2_PORT: DIR/nginx.conf, a main configuration
# that includes DIR/logpipe.conf (the shipped one, listening on 127.0.0.1:PORT in front of the
# two serve ports), with its pid, logs and temporary files under DIR.
render_nginx() {
  local shipped=$1 dir=$2 port=$3 serve1=$4 serve2=$5
  mkdir -p "$dir/tmp"
  chmod 1777 "$dir/tmp"
  python3 - "$shipped" "$dir" "$port" "$serve1" "$serve2" <<'PY'
import sys
shipped, dir, port, serve1, serve2 = sys.argv[1:]
text = open(shipped).read()
for old, new in [("server 127.0.0.1:8080 ", f"server 127.0.0.1:{serve1} "),
                 ("server 127.0.0.1:8081 ", f"server 127.0.0.1:{serve2} "),
                 ("    listen 80;", f"    listen 127.0.0.1:{port};"),
                 ("/var/log/nginx/logpipe.access.log", f"{dir}/logpipe.access.log")]:
    if text.count(old) != 1:
        sys.exit(f"render_nginx: {shipped} no longer has exactly one '{old.strip()}'")
    text = text.replace(old, new)
open(f"{dir}/logpipe.conf", "w").write(text)
temp = "".join(f"    {kind}_temp_path {dir}/tmp/{kind};\n"
               for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
open(f"{dir}/nginx.conf", "w").write(f"""worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
{temp}    include {dir}/logpipe.conf;
}}
""")
PY
}

# render_alertmanager SHIPPED OUT WEBHOOK_BASE: every receiver's URL moved to WEBHOOK_BASE (same
# paths); routes, grouping and inhibitions as shipped.
render_alertmanager() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys, urllib.parse, yaml
shipped, out, base = sys.argv[1:]
config = yaml.safe_load(open(shipped))
hooks = [hook for receiver in config["receivers"] for hook in receiver.get("webhook_configs", [])]
if not hooks:
    sys.exit(f"render_alertmanager: {shipped} has no webhook receiver")
for hook in hooks:
    hook["url"] = base + urllib.parse.urlsplit(hook["url"]).path
yaml.safe_dump(config, open(out, "w"), sort_keys=False)
PY
}

# render_prometheus SHIPPED_DIR OUT_DIR ALERTMANAGER SERVE_TARGETS WORKER_TARGETS: the shipped
# scrape config and rules, with the given targets (comma-separated host:port), every 2 s rather
# than 15 s so that a test sees a rule's `for:` pass in its own time.
render_prometheus() {
  mkdir -p "$2"
  python3 - "$@" <<'PY'
import os, sys, yaml
shipped, out, alertmanager, serve, worker = sys.argv[1:]
config = yaml.safe_load(open(f"{shipped}/prometheus.yml"))
config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = "2s"
config["rule_files"] = [os.path.join(shipped, f) for f in config["rule_files"]]
config["alerting"]["alertmanagers"] = [{"static_configs": [{"targets": [alertmanager]}]}]
targets = {"logpipe-serve": serve.split(","), "logpipe-worker": worker.split(",")}
for job in config["scrape_configs"]:
    if job["job_name"] not in targets:
        sys.exit(f"render_prometheus: unexpected job {job['job_name']}")
    path = f"{out}/{job['job_name']}.yml"
    yaml.safe_dump([{"targets": targets.pop(job["job_name"])}], open(path, "w"))
    job["file_sd_configs"] = [{"files": [path], "refresh_interval": "5s"}]
if targets:
    sys.exit(f"render_prometheus: no job for {', '.join(targets)}")
yaml.safe_dump(config, open(f"{out}/prometheus.yml", "w"), sort_keys=False)
PY
}
