//! What one client may hold at once.
//!
//! Without a trusted proxy, a client is its peer address and it holds
//! connections: the accept loop counts them. Behind trusted proxies every
//! connection comes from a proxy, so the client is the forwarded address and
//! it holds requests in flight: a middleware counts those. Either way clients
//! are counted by network (IPv4 address, IPv6 /64; see `spoor_core::ip::network`),
//! so one host cannot open thousands of slots by rotating the addresses of its
//! own /64.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

pub struct PerClient {
    max: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One slot a client holds; given back when dropped.
pub struct Slot {
    owner: Arc<PerClient>,
    network: IpAddr,
}

impl PerClient {
    /// `max` slots per client network; 0 for no bound.
    pub fn new(max: usize) -> Arc<PerClient> {
        Arc::new(PerClient {
            max,
            held: Mutex::default(),
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot for the client, or `None` when its network holds `max` already.
    /// The map holds only networks that hold a slot now, so it is bounded by
    /// the connections (or requests) the server admits at once.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let network = spoor_core::ip::network(ip);
        if self.max > 0 {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            let n = held.entry(network).or_insert(0);
            if *n >= self.max {
                return None;
            }
            *n += 1;
        }
        Some(Slot {
            owner: self.clone(),
            network,
        })
    }

    /// Networks holding a slot now.
    pub fn clients(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.owner.max == 0 {
            return;
        }
        let mut held = self.owner.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.network) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.network);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_holds_at_most_max_and_gets_them_back() {
        let caps = PerClient::new(2);
        let a: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:0:1:ffff::2".parse().unwrap();
        let other: IpAddr = "2001:db8:0:2::1".parse().unwrap();
        let one = caps.take(a).unwrap();
        let two = caps.take(same_64).unwrap();
        assert!(caps.take(a).is_none(), "a third slot for the same /64");
        let elsewhere = caps.take(other).unwrap();
        drop(one);
        let again = caps.take(same_64).expect("a slot given back is free again");
        drop((two, again, elsewhere));
        assert_eq!(
            caps.clients(),
            0,
            "no network is kept once it holds nothing"
        );
    }

    #[test]
    fn zero_means_no_bound() {
        let caps = PerClient::new(0);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let slots: Vec<Slot> = (0..1000).map(|_| caps.take(ip).unwrap()).collect();
        assert_eq!(slots.len(), 1000);
        assert_eq!(caps.clients(), 0);
    }
}
