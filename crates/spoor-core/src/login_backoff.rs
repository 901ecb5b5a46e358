//! Back-off for failed sign-ins, counted per account and per client network.
//!
//! An attempt is counted *before* its password is checked (a reservation),
//! and the check-and-count is one step under whatever lock or row lock holds
//! the count: so many attempts sent at once cannot all pass a check that each
//! saw before any was counted. A correct password gives the reservation back.
//!
//! Past a few free failures, each further failure doubles the wait before the
//! next attempt (1 s, 2 s, 4 s, ... up to a ceiling) rather than locking the
//! account for a fixed time: a guesser is slowed to a few tries an hour, and
//! the account's owner, who needs one try, waits seconds rather than minutes
//! once the guessing stops.

/// What one key (an account's email, or a client network) has done lately.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts counted and not given back, since the count was last forgotten.
    pub failures: u32,
    /// No attempt is admitted before this time (ms since the epoch).
    pub blocked_until_ms: i64,
    /// When the last attempt was counted (ms since the epoch).
    pub last_ms: i64,
}

/// How many failures are free, how long the waits grow, and when they are
/// forgotten.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub free: u32,
    pub max_wait_ms: i64,
    /// A key with no attempt for this long starts again from nothing.
    pub forget_after_ms: i64,
}

/// Per account: five free failures, then waits up to 15 minutes.
pub const ACCOUNT: Policy = Policy {
    free: 5,
    max_wait_ms: 15 * 60 * 1000,
    forget_after_ms: 15 * 60 * 1000,
};

/// Per client network: more free failures, since an office or a mobile
/// carrier puts many people behind one address.
pub const NETWORK: Policy = Policy {
    free: 50,
    max_wait_ms: 15 * 60 * 1000,
    forget_after_ms: 15 * 60 * 1000,
};

/// The longest email address (RFC 5321's path limit less its brackets).
/// Longer ones are refused before they are counted or kept.
pub const MAX_EMAIL_BYTES: usize = 254;

impl Attempts {
    /// Counts one attempt at `now` if the key may make one, or answers how many
    /// milliseconds it must wait.
    pub fn reserve(&mut self, now_ms: i64, policy: &Policy) -> Result<(), i64> {
        if now_ms.saturating_sub(self.last_ms) >= policy.forget_after_ms {
            *self = Attempts::default();
        }
        if now_ms < self.blocked_until_ms {
            return Err(self.blocked_until_ms.saturating_sub(now_ms));
        }
        self.failures = self.failures.saturating_add(1);
        self.last_ms = now_ms;
        if self.failures >= policy.free {
            // The free-th failure starts the waits at 1 s; each one after doubles it.
            let doublings = (self.failures - policy.free).min(30);
            let wait = 1000_i64
                .saturating_mul(1_i64 << doublings)
                .min(policy.max_wait_ms);
            self.blocked_until_ms = now_ms.saturating_add(wait);
        }
        Ok(())
    }

    /// The attempt was the right password: the account starts again from nothing.
    pub fn succeeded(&mut self) {
        *self = Attempts::default();
    }

    /// The attempt was the right password: a network's count gives back the
    /// one attempt it reserved (other attempts from the network stay counted).
    pub fn refund(&mut self) {
        self.failures = self.failures.saturating_sub(1);
    }

    /// Whether nothing about the key is worth keeping at `now`.
    pub fn forgotten(&self, now_ms: i64, policy: &Policy) -> bool {
        now_ms.saturating_sub(self.last_ms) >= policy.forget_after_ms
            && now_ms >= self.blocked_until_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        free: 3,
        max_wait_ms: 10_000,
        forget_after_ms: 60_000,
    };

    #[test]
    fn free_failures_then_doubling_waits_up_to_the_ceiling() {
        let mut a = Attempts::default();
        let t = 1_000_000;
        assert_eq!(a.reserve(t, &P), Ok(()));
        assert_eq!(a.reserve(t, &P), Ok(()));
        // The third (the last free one) is admitted and starts a 1 s wait.
        assert_eq!(a.reserve(t, &P), Ok(()));
        assert_eq!(a.reserve(t, &P), Err(1000));
        assert_eq!(a.reserve(t + 999, &P), Err(1));
        assert_eq!(a.reserve(t + 1000, &P), Ok(()));
        assert_eq!(a.reserve(t + 1000, &P), Err(2000));
        let mut now = t + 3000;
        let mut waits = vec![];
        for _ in 0..6 {
            assert_eq!(a.reserve(now, &P), Ok(()));
            let wait = a.reserve(now, &P).unwrap_err();
            waits.push(wait);
            now += wait;
        }
        assert_eq!(waits, [4000, 8000, 10_000, 10_000, 10_000, 10_000]);
    }

    #[test]
    fn refused_attempts_are_not_counted_and_many_failures_never_overflow() {
        let mut a = Attempts::default();
        for _ in 0..3 {
            a.reserve(0, &P).unwrap();
        }
        for _ in 0..1000 {
            assert!(a.reserve(10, &P).is_err());
        }
        assert_eq!(a.failures, 3);
        let mut b = Attempts {
            failures: u32::MAX - 1,
            blocked_until_ms: 0,
            last_ms: i64::MAX - 5,
        };
        assert_eq!(b.reserve(i64::MAX - 1, &P), Ok(()));
        assert_eq!(b.failures, u32::MAX);
        assert_eq!(b.blocked_until_ms, i64::MAX);
    }

    #[test]
    fn success_resets_the_account_and_refunds_the_network() {
        let mut account = Attempts::default();
        let mut network = Attempts::default();
        for _ in 0..2 {
            account.reserve(0, &P).unwrap();
            network.reserve(0, &P).unwrap();
        }
        account.succeeded();
        network.refund();
        assert_eq!(account, Attempts::default());
        assert_eq!(network.failures, 1);
    }

    #[test]
    fn a_quiet_key_is_forgotten_after_the_window_and_not_before() {
        let mut a = Attempts::default();
        for _ in 0..3 {
            a.reserve(0, &P).unwrap();
        }
        assert!(!a.forgotten(59_999, &P));
        assert!(a.forgotten(60_000, &P));
        assert_eq!(a.reserve(60_000, &P), Ok(()));
        assert_eq!(a.failures, 1);
    }
}
