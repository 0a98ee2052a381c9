//! Import checks a caller may tune: RSA modulus floor and ceiling, RSA exponent range.

/// The checks every key passes at import. Build from [`KeyPolicy::default`] and adjust:
///
/// ```
/// let policy = jws_crypto::KeyPolicy::default().min_rsa_bits(3072);
/// assert_eq!(policy.rsa_bits_range(), (3072, 8192));
/// ```
///
/// HMAC secrets shorter than the hash output (32, 48, 64 bytes for HS256/384/512, RFC 7518
/// section 3.2) are always refused; that floor is not configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyPolicy {
    min_rsa_bits: usize,
    max_rsa_bits: usize,
    allow_large_rsa_exponent: bool,
    roca_check: bool,
}

/// The lowest RSA floor a policy can set: [`KeyPolicy::min_rsa_bits`] clamps to it.
pub const RSA_FLOOR_BITS: usize = 1024;

/// The highest RSA ceiling: both backends refuse moduli above 8192 bits.
pub const RSA_CEILING_BITS: usize = 8192;

impl Default for KeyPolicy {
    /// RSA moduli of 2048 to 8192 bits, public exponent odd and in `3..=2^32`, ROCA check on.
    fn default() -> Self {
        KeyPolicy {
            min_rsa_bits: 2048,
            max_rsa_bits: RSA_CEILING_BITS,
            allow_large_rsa_exponent: false,
            roca_check: true,
        }
    }
}

impl KeyPolicy {
    /// Smallest RSA modulus accepted, in bits. Default 2048. Values below 1024 are clamped to
    /// 1024 (RSA-1024 is the last size either backend will verify at all). Moduli below 2048
    /// bits verify only RS256 and RS512: neither backend offers RS384 or PS* for them, so
    /// those imports are `weak_key`.
    #[must_use]
    pub fn min_rsa_bits(mut self, bits: usize) -> Self {
        self.min_rsa_bits = bits.clamp(RSA_FLOOR_BITS, RSA_CEILING_BITS);
        self.max_rsa_bits = self.max_rsa_bits.max(self.min_rsa_bits);
        self
    }

    /// Largest RSA modulus accepted, in bits, to bound the CPU one verification costs.
    /// Default 8192, which is also the most either backend accepts (larger values clamp).
    #[must_use]
    pub fn max_rsa_bits(mut self, bits: usize) -> Self {
        self.max_rsa_bits = bits.clamp(RSA_FLOOR_BITS, RSA_CEILING_BITS);
        self.min_rsa_bits = self.min_rsa_bits.min(self.max_rsa_bits);
        self
    }

    /// Allows RSA public exponents above 2^32 (still odd). Default `false`. Exponents above
    /// 2^33 - 1 stay refused (`invalid_key`): neither backend verifies with them.
    #[must_use]
    pub fn allow_large_rsa_exponent(mut self, allow: bool) -> Self {
        self.allow_large_rsa_exponent = allow;
        self
    }

    /// Refuses RSA moduli with the ROCA fingerprint (CVE-2017-15361: keys from a flawed
    /// Infineon generator, whose factors can be computed) as `weak_key`. Default `true`. The
    /// test is cheap (38 residues) and a random modulus fails it with probability about
    /// 2^-27.8, so turning it off is for diagnosing such a false positive only.
    #[must_use]
    pub fn roca_check(mut self, enabled: bool) -> Self {
        self.roca_check = enabled;
        self
    }

    /// Whether the ROCA fingerprint check runs.
    pub fn roca_check_enabled(&self) -> bool {
        self.roca_check
    }

    /// `(min, max)` RSA modulus bits, inclusive.
    pub fn rsa_bits_range(&self) -> (usize, usize) {
        (self.min_rsa_bits, self.max_rsa_bits)
    }

    /// Whether exponents above 2^32 are allowed.
    pub fn large_rsa_exponent_allowed(&self) -> bool {
        self.allow_large_rsa_exponent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_clamp() {
        assert_eq!(KeyPolicy::default().rsa_bits_range(), (2048, 8192));
        assert_eq!(
            KeyPolicy::default().min_rsa_bits(512).rsa_bits_range(),
            (1024, 8192)
        );
        assert_eq!(
            KeyPolicy::default().max_rsa_bits(100_000).rsa_bits_range(),
            (2048, 8192)
        );
        assert_eq!(
            KeyPolicy::default().max_rsa_bits(1500).rsa_bits_range(),
            (1500, 1500)
        );
        assert!(!KeyPolicy::default().large_rsa_exponent_allowed());
    }
}
