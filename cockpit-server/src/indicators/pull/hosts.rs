//! Which hosts pulls may fetch (`[indicators] pull_hosts`): without this an operator who
//! manages indicators could make the server fetch what only it can reach (its own ports,
//! the database, a cloud's metadata at 169.254.169.254). An entry is a host (`stats.gov.cn`),
//! an address (`10.2.3.4`, `[fd00::1]`), every name under a suffix (`*.zj.gov.cn`) or every
//! public host (`*`), each with a port (`:8443`) or any. Empty: no pull is allowed.
//!
//! The address is checked where it is entered (a pull's create, replace and test fetch) and
//! at every fetch twice: the URL against the list, then every address its name resolves to
//! (the client's DNS resolver, [`Puller`]): a loopback, private, link-local or otherwise
//! non-public address is dropped unless the list names that host or that address itself
//! (a wildcard does not), so a name cannot be pointed at the inside later. A redirect is
//! checked as a new address (reqwest's redirect policy); no proxy is used, so the address
//! checked is the one connected to.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The most redirects a fetch follows, each checked as a new address.
const MAX_REDIRECTS: usize = 5;

/// The hosts pulls may fetch.
#[derive(Debug, Clone, Default)]
pub struct PullHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    host: Pattern,
    /// None: any port.
    port: Option<u16>,
    /// As written, for messages.
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    /// `*`: every host (public addresses only).
    Any,
    /// `*.suffix`: every name under it (public addresses only).
    Suffix(String),
    /// A name, explicitly.
    Name(String),
    /// An address, explicitly.
    Address(IpAddr),
}

impl PullHosts {
    /// Reads the configuration's list; a bad entry is named.
    pub fn parse(list: &[String]) -> Result<PullHosts, String> {
        let entries = list.iter().map(|e| Entry::parse(e).map_err(|why| format!("pull_hosts entry `{e}`: {why}")));
        Ok(PullHosts { entries: entries.collect::<Result<_, _>>()? })
    }

    /// Whether `url` may be fetched, or why not (in an operator's words).
    pub fn check(&self, url: &Url) -> Result<(), String> {
        let Some(host) = url.host() else { return Err("an address with a host".into()) };
        let port = url.port_or_known_default();
        let host = match host {
            Host::Domain(d) => Host::Domain(d.trim_end_matches('.')),
            other => other,
        };
        let matched: Vec<&Entry> =
            self.entries.iter().filter(|e| e.port.is_none_or(|p| Some(p) == port) && e.matches(&host)).collect();
        let shown = match port {
            Some(port) if url.port().is_some() => format!("{host}:{port}"),
            _ => host.to_string(),
        };
        if matched.is_empty() {
            return Err(match self.entries.is_empty() {
                true => "no pulls are allowed here: [indicators] pull_hosts is empty".into(),
                false => {
                    let allowed: Vec<&str> = self.entries.iter().map(|e| e.text.as_str()).collect();
                    format!("`{shown}` is not among the hosts pulls may fetch ({})", allowed.join(", "))
                }
            });
        }
        let address = match host {
            Host::Ipv4(a) => Some(IpAddr::V4(a)),
            Host::Ipv6(a) => Some(IpAddr::V6(a)),
            Host::Domain(_) => None,
        };
        if let Some(address) = address.filter(|a| is_internal(*a))
            && !matched.iter().any(|e| e.host == Pattern::Address(address.to_canonical()))
        {
            return Err(format!("`{shown}` is an internal address that pull_hosts does not name itself"));
        }
        Ok(())
    }

    /// Whether a name is allowed on some port (the resolver's check; the port is the URL's).
    fn allows_name(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.matches(&Host::Domain(name)))
    }

    /// Whether the list names `name` itself: its addresses may then be internal.
    fn names_host(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.host == Pattern::Name(name.to_string()))
    }

    /// Whether the list names `address` itself.
    fn names_address(&self, address: IpAddr) -> bool {
        self.entries.iter().any(|e| e.host == Pattern::Address(address.to_canonical()))
    }
}

impl Entry {
    fn parse(text: &str) -> Result<Entry, String> {
        let lower = text.trim().to_ascii_lowercase();
        let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or("a port is 1–65535");
        let (host, port) = if let Some(rest) = lower.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or("an IPv6 address closes with ]")?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(port(p)?)),
                None if after.is_empty() => (host, None),
                None => return Err("`:port` after the address".into()),
            }
        } else if lower.matches(':').count() > 1 {
            (lower.as_str(), None) // an IPv6 address without a port
        } else {
            match lower.rsplit_once(':') {
                Some((host, p)) => (host, Some(port(p)?)),
                None => (lower.as_str(), None),
            }
        };
        let host = host.trim_end_matches('.');
        let pattern = if host == "*" {
            Pattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            match Host::parse(suffix) {
                Ok(Host::Domain(d)) if !d.contains('*') => Pattern::Suffix(d),
                _ => return Err("`*.` and a domain name".into()),
            }
        } else if let Ok(address) = host.parse::<IpAddr>() {
            Pattern::Address(address.to_canonical())
        } else {
            match Host::parse(host) {
                Ok(Host::Domain(d)) if !d.contains('*') && !d.is_empty() => Pattern::Name(d),
                Ok(Host::Ipv4(a)) => Pattern::Address(IpAddr::V4(a)),
                _ => return Err("a host name, an address, `*.suffix` or `*`".into()),
            }
        };
        Ok(Entry { host: pattern, port, text: text.trim().to_string() })
    }

    fn matches(&self, host: &Host<&str>) -> bool {
        match (&self.host, host) {
            (Pattern::Any, _) => true,
            (Pattern::Suffix(s), Host::Domain(d)) => {
                d.len() > s.len() + 1 && d.ends_with(s.as_str()) && { d.as_bytes()[d.len() - s.len() - 1] == b'.' }
            }
            (Pattern::Name(n), Host::Domain(d)) => n == d,
            (Pattern::Address(a), Host::Ipv4(b)) => *a == IpAddr::V4(*b),
            (Pattern::Address(a), Host::Ipv6(b)) => *a == IpAddr::V6(*b).to_canonical(),
            _ => false,
        }
    }
}

/// Whether `address` is not a public unicast one: loopback, private (RFC 1918, IPv6 unique
/// local), link-local (the cloud metadata address among them), shared (100.64/10),
/// unspecified, broadcast, multicast, documentation or reserved; an IPv4 address inside an
/// IPv6 one (mapped, NAT64) as itself.
pub fn is_internal(address: IpAddr) -> bool {
    match address.to_canonical() {
        IpAddr::V4(a) => internal_v4(a),
        IpAddr::V6(a) => {
            let s = a.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [x, y] = s[6].to_be_bytes();
                let [z, w] = s[7].to_be_bytes();
                return internal_v4(Ipv4Addr::new(x, y, z, w));
            }
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        }
    }
}

fn internal_v4(a: Ipv4Addr) -> bool {
    let [first, second, ..] = a.octets();
    a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || first == 0
        || first >= 240
        || (first == 100 && (64..128).contains(&second)) // shared address space
        || (first == 198 && (18..20).contains(&second)) // benchmarking
}

/// The HTTP client of every pull and test fetch (a pool of connections shared by them),
/// with the list it checks: its resolver drops the addresses the list refuses, and a
/// redirect is checked as a new address.
#[derive(Debug, Clone)]
pub struct Puller {
    client: reqwest::Client,
    hosts: Arc<PullHosts>,
}

impl Puller {
    /// A client that fetches only what `hosts` allows.
    pub fn new(hosts: PullHosts) -> Result<Puller, reqwest::Error> {
        let hosts = Arc::new(hosts);
        let redirects = hosts.clone();
        let client = reqwest::Client::builder()
            .user_agent(concat!("ouhai-cockpit-indicator-pull/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .no_proxy()
            .dns_resolver(Arc::new(Guard(hosts.clone())))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error(refused(format!("more than {MAX_REDIRECTS} redirects")));
                }
                match redirects.check(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(why) => attempt.error(refused(format!("redirected: {why}"))),
                }
            }))
            .build()?;
        Ok(Puller { client, hosts })
    }

    /// The configuration's list, read: a bad entry is named.
    pub fn from_config(list: &[String]) -> anyhow::Result<Puller> {
        let hosts = PullHosts::parse(list).map_err(|why| anyhow::anyhow!("[indicators] {why}"))?;
        Ok(Puller::new(hosts)?)
    }

    /// The client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The list it checks.
    pub fn hosts(&self) -> &PullHosts {
        &self.hosts
    }
}

/// A refusal carried through reqwest's error as the source of its error, found again by
/// [`refusal`] (an `io::Error` of kind `PermissionDenied`: no new error type for it).
fn refused(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, why)
}

/// The refusal behind `error`, if a check refused the fetch.
pub fn refusal(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>().filter(|io| io.kind() == io::ErrorKind::PermissionDenied) {
            return Some(io.to_string());
        }
        next = e.source();
    }
    None
}

/// The system's resolver, then the list: the addresses it refuses are dropped.
struct Guard(Arc<PullHosts>);

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let hosts = self.0.clone();
        let name = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if !hosts.allows_name(&name) {
                return Err(refused(format!("`{name}` is not among the hosts pulls may fetch")).into());
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let explicit = hosts.names_host(&name);
            let (kept, dropped): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|a| explicit || !is_internal(a.ip()) || hosts.names_address(a.ip()));
            if let (true, Some(first)) = (kept.is_empty(), dropped.first()) {
                let why = format!("`{name}` resolves to {}, an internal address pull_hosts does not name", first.ip());
                return Err(refused(why).into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(list: &[&str], url: &str) -> Result<(), String> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        PullHosts::parse(&list).unwrap().check(&Url::parse(url).unwrap())
    }

    #[test]
    fn the_list_allows_hosts_suffixes_and_ports_and_internal_addresses_only_by_name() {
        let list = ["stats.example.cn", "*.zj.gov.cn:8443", "10.1.2.3:8080", "[::1]:9000", "localhost:7000"];
        let allowed = |url: &str| check(&list, url).is_ok();
        assert!(allowed("https://stats.example.cn/api"));
        assert!(allowed("http://STATS.example.cn.:81/api"), "any port, case and a trailing dot");
        assert!(allowed("https://data.wz.zj.gov.cn:8443/x"));
        assert!(!allowed("https://zj.gov.cn:8443/x"), "a suffix names what is under it");
        assert!(!allowed("https://evilzj.gov.cn:8443/x"));
        assert!(!allowed("https://data.zj.gov.cn/x"), "another port");
        assert!(allowed("http://10.1.2.3:8080/"));
        assert!(!allowed("http://10.1.2.3:8081/"));
        assert!(allowed("http://[::1]:9000/"));
        assert!(allowed("http://[::ffff:10.1.2.3]:8080/"), "a mapped address as itself");
        assert!(allowed("http://localhost:7000/"));
        assert!(!allowed("http://127.0.0.1:7000/"));
        assert!(!allowed("http://169.254.169.254/latest/meta-data/"));
        assert!(check(&[], "https://stats.example.cn/").unwrap_err().contains("pull_hosts is empty"));
    }

    #[test]
    fn a_wildcard_never_allows_an_internal_address() {
        for url in ["http://127.0.0.1/", "http://2130706433/", "http://169.254.169.254/", "http://[::ffff:127.0.0.1]/"]
        {
            let why = check(&["*"], url).unwrap_err();
            assert!(why.contains("internal address"), "{url}: {why}");
        }
        assert!(check(&["*"], "https://203.0.114.1/").is_ok());
        assert!(check(&["*", "127.0.0.1"], "http://127.0.0.1:5/").is_ok());
    }

    #[test]
    fn internal_addresses_are_known() {
        let internal = [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
            "64:ff9b::a9fe:a9fe",
        ];
        for a in internal {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.1", "2400:3200::1", "::ffff:8.8.8.8"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn a_bad_entry_is_named() {
        for bad in ["stats.cn:0", "stats.cn:99999", "*x.cn", "[::1", "a*b.cn", ""] {
            let why = PullHosts::parse(&[bad.to_string()]).unwrap_err();
            assert!(why.contains(&format!("`{bad}`")), "{why}");
        }
    }
}
