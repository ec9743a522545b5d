//! Keeping deliveries out of the gateway's own network (server-side
//! request forgery): an endpoint may not reach a loopback, private,
//! shared, link-local (the clouds' metadata service among them),
//! multicast, reserved or documentation address. Checked when an endpoint
//! is registered or changed, and again on every connection, after DNS
//! resolution, by the delivery client's own resolver: a name that later
//! resolves elsewhere (DNS rebinding) is refused at that moment. An
//! allow-list of networks (`COGOV_WEBHOOK_ALLOW_NETWORKS`) opens some of
//! them, for development and tests; with one set, `http://` is accepted
//! too.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Networks no delivery may reach unless allow-listed.
static FORBIDDEN: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10", // shared address space; Alibaba Cloud's metadata
        "127.0.0.0/8",
        "169.254.0.0/16", // link-local; the clouds' metadata at .169.254
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b::/96", // NAT64: an IPv4 address inside
        "100::/64",
        "2001:db8::/32",
        "fc00::/7", // unique local; AWS's metadata at fd00:ec2::254
        "fe80::/10",
        "ff00::/8",
    ]
    .iter()
    .map(|n| n.parse().expect("a network"))
    .collect()
});

/// Why an address or URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// What deliveries may reach.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Arc<Vec<IpNet>>,
}

impl Guard {
    /// A guard opening `allow` (networks such as `127.0.0.1/32`).
    pub fn new(allow: Vec<IpNet>) -> Guard {
        Guard {
            allow: Arc::new(allow),
        }
    }

    /// The networks of a comma-separated setting; a lone address is a
    /// network of one.
    pub fn parse_allow(setting: &str) -> Result<Vec<IpNet>, String> {
        setting
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is neither a network nor an address"))
            })
            .collect()
    }

    /// Whether a delivery may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> Result<(), Refused> {
        // An IPv4 address written as IPv6 is judged as itself.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self.allow.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        match FORBIDDEN.iter().find(|n| n.contains(&ip)) {
            Some(net) => Err(Refused(format!(
                "{ip} is in {net}, which webhooks may not reach"
            ))),
            None => Ok(()),
        }
    }

    /// The URL, if an endpoint may have it: https (or http while networks
    /// are allow-listed), a host, no credentials, and no forbidden address
    /// written in it. Names are judged when they are resolved.
    pub fn check_url(&self, url: &str) -> Result<Url, Refused> {
        let parsed = Url::parse(url).map_err(|e| Refused(format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if !self.allow.is_empty() => {}
            _ => return Err(Refused("must be an https:// URL".into())),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Refused("must not carry credentials".into()));
        }
        match literal(&parsed) {
            Some(ip) => self.permits(ip)?,
            None if parsed.host_str().is_none_or(str::is_empty) => {
                return Err(Refused("must name a host".into()));
            }
            None => {}
        }
        Ok(parsed)
    }

    /// Checks `url` and every address its host resolves to now.
    pub async fn check_resolved(&self, url: &str) -> Result<Url, Refused> {
        let parsed = self.check_url(url)?;
        if literal(&parsed).is_none()
            && let Some(host) = parsed.host_str()
        {
            self.resolve_host(host).await?;
        }
        Ok(parsed)
    }

    async fn resolve_host(&self, host: &str) -> Result<Vec<SocketAddr>, Refused> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| Refused(format!("{host} does not resolve: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(Refused(format!("{host} does not resolve")));
        }
        // One forbidden address refuses the name: a name resolving to a
        // public and a private address is not to be trusted with either.
        for a in &addrs {
            self.permits(a.ip())
                .map_err(|Refused(why)| Refused(format!("{host} resolves to {why}")))?;
        }
        Ok(addrs)
    }
}

/// The address written as the URL's host, if it is one (the parser has
/// already read the other spellings of an IPv4 address as one).
fn literal(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.clone();
        Box::pin(async move {
            let addrs = guard.resolve_host(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(guard: &Guard, url: &str) -> bool {
        guard.check_url(url).is_err()
    }

    #[test]
    fn refuses_internal_addresses_written_in_any_form() {
        let guard = Guard::default();
        for url in [
            "https://127.0.0.1/hook",
            "https://127.1.2.3:8443/hook",
            "https://10.0.0.5/",
            "https://172.20.1.1/",
            "https://192.168.1.10/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.100.100.200/latest/meta-data/",
            "https://0.0.0.0/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[ff02::1]/",
            "https://[::]/",
            "https://2130706433/",
            "https://0x7f.0.0.1/",
        ] {
            assert!(refused(&guard, url), "{url}");
        }
        assert!(refused(&guard, "http://93.184.216.34/hook"), "http");
        assert!(refused(&guard, "ftp://93.184.216.34/"), "ftp");
        assert!(
            refused(&guard, "https://user:pw@93.184.216.34/"),
            "credentials"
        );
        assert!(refused(&guard, "not a url"));
        assert!(guard.check_url("https://93.184.216.34/hook").is_ok());
        assert!(guard.check_url("https://[2606:2800:220:1::]/hook").is_ok());
        assert!(guard.check_url("https://hooks.example.com/x").is_ok());
    }

    #[test]
    fn an_allow_list_opens_its_networks_and_plain_http() {
        let guard = Guard::new(Guard::parse_allow("127.0.0.1, 10.1.0.0/16").unwrap());
        assert!(guard.check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(guard.check_url("https://10.1.2.3/hook").is_ok());
        assert!(refused(&guard, "https://10.2.0.1/hook"));
        assert!(refused(&guard, "https://127.0.0.2/hook"));
        assert!(Guard::parse_allow("10.0.0.0/33").is_err());
        assert!(Guard::parse_allow("").unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_name_is_judged_by_what_it_resolves_to() {
        let guard = Guard::default();
        let refusal = guard
            .check_resolved("https://localhost/hook")
            .await
            .unwrap_err();
        assert!(refusal.0.contains("localhost resolves to"), "{refusal}");
        // The delivery client's resolver refuses the same at connection.
        let addrs = Resolve::resolve(&guard, "localhost".parse().unwrap()).await;
        assert!(addrs.is_err());
        let open = Guard::new(Guard::parse_allow("127.0.0.0/8,::1").unwrap());
        let addrs: Vec<_> = Resolve::resolve(&open, "localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
