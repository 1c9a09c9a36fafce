//! The addresses other hosts reach this one by, for a listener on every address: the
//! global unicast addresses of the host's interfaces (IPv4 and IPv6, no loopback or
//! link-local), in interface order, as the reference advertises them.

use std::net::{IpAddr, UdpSocket};

/// Whether `ip` is a global unicast address in the reference's sense (private ranges
/// included; unspecified, loopback, multicast, broadcast and link-local excluded).
pub fn is_global_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_link_local())
        }
        IpAddr::V6(v6) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// The host's global unicast addresses, interface by interface (IPv4 before IPv6 within
/// one). Empty when none could be found.
pub fn global_unicast_ips() -> Vec<IpAddr> {
    let mut ips = interface_ips();
    if ips.is_empty() {
        ips = outgoing_ips();
    }
    ips.retain(is_global_unicast);
    ips
}

/// Every address of every interface, from `getifaddrs`, grouped by interface index.
#[cfg(unix)]
fn interface_ips() -> Vec<IpAddr> {
    let mut found: Vec<(u32, u8, IpAddr)> = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `getifaddrs` fills `list` with a linked list we only read and then free
    // exactly once with `freeifaddrs`; every pointer is checked for null before use and
    // each `ifa_addr` is read as the socket address type its family says it is.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return Vec::new();
        }
        let mut cur = list;
        while !cur.is_null() {
            let entry = &*cur;
            cur = entry.ifa_next;
            if entry.ifa_addr.is_null() || entry.ifa_name.is_null() {
                continue;
            }
            let index = libc::if_nametoindex(entry.ifa_name);
            match i32::from((*entry.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sin = &*(entry.ifa_addr as *const libc::sockaddr_in);
                    let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                    found.push((index, 4, IpAddr::V4(ip)));
                }
                libc::AF_INET6 => {
                    let sin6 = &*(entry.ifa_addr as *const libc::sockaddr_in6);
                    let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                    found.push((index, 6, IpAddr::V6(ip)));
                }
                _ => {}
            }
        }
        libc::freeifaddrs(list);
    }
    // Stable: the kernel's order within one interface and family is kept.
    found.sort_by_key(|(index, family, _)| (*index, *family));
    found.into_iter().map(|(_, _, ip)| ip).collect()
}

/// Without interface enumeration, nothing here; [`outgoing_ips`] answers.
#[cfg(not(unix))]
fn interface_ips() -> Vec<IpAddr> {
    Vec::new()
}

/// The local address of the outgoing interface per family: a UDP socket "connected" to a
/// documentation address (nothing is sent) reports it.
fn outgoing_ips() -> Vec<IpAddr> {
    [("0.0.0.0:0", "192.0.2.1:9"), ("[::]:0", "[2001:db8::1]:9")]
        .into_iter()
        .filter_map(|(bind, target)| {
            let socket = UdpSocket::bind(bind).ok()?;
            socket.connect(target).ok()?;
            Some(socket.local_addr().ok()?.ip())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_unicast_as_the_reference_means_it() {
        let yes = ["192.0.2.2", "10.1.2.3", "fd00::2", "2001:db8::5"];
        let no = [
            "0.0.0.0",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::fc:ff:fe00:1",
            "ff02::1",
        ];
        for ip in yes {
            assert!(is_global_unicast(&ip.parse().unwrap()), "{ip}");
        }
        for ip in no {
            assert!(!is_global_unicast(&ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_host_addresses_are_global_unicast() {
        for ip in global_unicast_ips() {
            assert!(is_global_unicast(&ip), "{ip}");
        }
    }
}
