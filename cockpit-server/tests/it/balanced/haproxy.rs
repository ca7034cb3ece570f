//! HAProxy from Debian in front of the instances, started with the configuration that
//! docs/operations.md shows: HTTP and WebSocket on one frontend, `/healthz` checked every
//! half second, a connection that fails retried on the other instance, and a request that
//! reached a dying instance retried only when it may be sent twice (a read, or a create
//! carrying an `Idempotency-Key`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::mqtt_peers::{Child, free_port};

/// The configuration for instances listening on `instances` (name, port), the frontend
/// on `port`.
pub(crate) fn config(port: u16, instances: &[(&str, u16)]) -> String {
    let mut text = format!(
        "global
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 30s
    # A WebSocket, once upgraded, is a tunnel: the live protocol pings every 15 s.
    timeout tunnel 1h
    # A connection refused (an instance just killed, not yet marked down) is tried again,
    # on another instance.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503 504

frontend cockpit
    bind 127.0.0.1:{port}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    # A request that reached an instance is sent again only when that is harmless: a
    # POST without an Idempotency-Key might have been applied already.
    http-request disable-l7-retry if METH_POST !{{ req.hdr(idempotency-key) -m found }}
    default-server inter 500ms fall 2 rise 2
"
    );
    for (name, instance) in instances {
        text.push_str(&format!("    server {name} 127.0.0.1:{instance} check\n"));
    }
    text
}

/// HAProxy, running; killed when dropped.
pub(crate) struct Haproxy {
    _child: Child,
    pub(crate) addr: SocketAddr,
}

/// Starts HAProxy in the foreground with [`config`]; its log is `haproxy.log` in `home`.
pub(crate) fn start(home: &Path, instances: &[(&str, u16)]) -> Haproxy {
    let binary = ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("HAProxy is not installed: ./test.sh installs it (apt-get install haproxy)");
    let port = free_port();
    let conf = home.join("haproxy.cfg");
    std::fs::write(&conf, config(port, instances)).unwrap();
    let log = std::fs::File::create(home.join("haproxy.log")).unwrap();
    // -db: stay in the foreground, so that dropping the child stops it.
    let child = Command::new(binary)
        .arg("-db")
        .arg("-f")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut child = Child(child);
    for _ in 0..200 {
        if let Some(status) = child.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(home.join("haproxy.log")).unwrap_or_default();
            panic!("HAProxy exited with {status}:\n{log}");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Haproxy { _child: child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("HAProxy did not start: {}", std::fs::read_to_string(home.join("haproxy.log")).unwrap_or_default());
}
