//! Just enough Edwards25519 and scalar arithmetic to craft the signatures and
//! keys of the ISM-1 §7.3 strictness vectors: points and scalars that the
//! deterministic Ed25519 signer never produces (a small-order R, S + L, an R
//! with a torsion component). Written from RFC 8032 §5.1 with plain
//! shift-and-subtract reduction: slow, simple, variable time, for test data
//! only and never for a real key.
//!
//! Shared by `specs/examples/make_vectors.rs` and `specs/tests/ed25519_rules.rs`
//! through `#[path]`, so not every item is used by both.
#![allow(dead_code)]

/// A 256-bit unsigned integer, four little-endian 64-bit limbs.
pub type U256 = [u64; 4];

/// p = 2^255 − 19, the field prime.
pub const P: U256 = [
    0xffff_ffff_ffff_ffed,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_ffff_ffff,
    0x7fff_ffff_ffff_ffff,
];

/// L = 2^252 + 27742317777372353535851937790883648493, the prime order of the base point.
pub const L: U256 = [
    0x5812_631a_5cf5_d3ed,
    0x14de_f9de_a2f7_9cd6,
    0x0000_0000_0000_0000,
    0x1000_0000_0000_0000,
];

pub fn from_u64(value: u64) -> U256 {
    [value, 0, 0, 0]
}

pub fn from_le_bytes(bytes: &[u8; 32]) -> U256 {
    let mut out = [0u64; 4];
    for (index, limb) in out.iter_mut().enumerate() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
        *limb = u64::from_le_bytes(chunk);
    }
    out
}

pub fn to_le_bytes(value: &U256) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (index, limb) in value.iter().enumerate() {
        out[index * 8..index * 8 + 8].copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// a ≥ b.
pub fn at_least(a: &U256, b: &U256) -> bool {
    for index in (0..4).rev() {
        if a[index] != b[index] {
            return a[index] > b[index];
        }
    }
    true
}

/// a + b, and whether it carried out of 256 bits.
pub fn add_raw(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for index in 0..4 {
        let (sum, c1) = a[index].overflowing_add(b[index]);
        let (sum, c2) = sum.overflowing_add(u64::from(carry));
        out[index] = sum;
        carry = c1 || c2;
    }
    (out, carry)
}

/// a − b, and whether it borrowed.
pub fn sub_raw(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for index in 0..4 {
        let (difference, b1) = a[index].overflowing_sub(b[index]);
        let (difference, b2) = difference.overflowing_sub(u64::from(borrow));
        out[index] = difference;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// The 512-bit product of two 256-bit numbers.
fn mul_wide(a: &U256, b: &U256) -> [u64; 8] {
    let mut wide = [0u64; 8];
    for i in 0..4 {
        let mut carry: u128 = 0;
        for j in 0..4 {
            let t = u128::from(a[i]) * u128::from(b[j]) + u128::from(wide[i + j]) + carry;
            wide[i + j] = t as u64;
            carry = t >> 64;
        }
        wide[i + 4] = carry as u64;
    }
    wide
}

/// Reduces a 512-bit number mod p using 2^256 ≡ 38 (mod p): the fast path
/// that keeps scalar multiplication of points quick enough for tests.
fn reduce_p(wide: &[u64; 8]) -> U256 {
    // lo + 38·hi fits in five limbs.
    let mut folded = [0u64; 5];
    let mut carry: u128 = 0;
    for index in 0..4 {
        let t = u128::from(wide[index]) + 38 * u128::from(wide[index + 4]) + carry;
        folded[index] = t as u64;
        carry = t >> 64;
    }
    folded[4] = carry as u64;
    // Fold the fifth limb (at most 38) the same way.
    let mut out = [0u64; 4];
    let mut carry = 38 * u128::from(folded[4]);
    for index in 0..4 {
        let t = u128::from(folded[index]) + carry;
        out[index] = t as u64;
        carry = t >> 64;
    }
    if carry != 0 {
        // Wrapped past 2^256 once more: add 38 for it (cannot carry again).
        out = add_raw(&out, &from_u64(38)).0;
    }
    while at_least(&out, &P) {
        out = sub_raw(&out, &P).0;
    }
    out
}

fn bit(limbs: &[u64], index: usize) -> bool {
    (limbs[index / 64] >> (index % 64)) & 1 == 1
}

/// Arithmetic modulo an odd modulus below 2^255 (p or L).
#[derive(Clone, Copy)]
pub struct Modulus(pub U256);

impl Modulus {
    /// Reduces any number of little-endian limbs, most significant bit first.
    pub fn reduce(&self, limbs: &[u64]) -> U256 {
        let mut r = [0u64; 4];
        for index in (0..limbs.len() * 64).rev() {
            // r < m < 2^255, so 2r + 1 fits in 256 bits.
            let (doubled, _) = add_raw(&r, &r);
            r = doubled;
            r[0] |= u64::from(bit(limbs, index));
            if at_least(&r, &self.0) {
                r = sub_raw(&r, &self.0).0;
            }
        }
        r
    }

    pub fn add(&self, a: &U256, b: &U256) -> U256 {
        let (sum, _) = add_raw(a, b);
        if at_least(&sum, &self.0) {
            sub_raw(&sum, &self.0).0
        } else {
            sum
        }
    }

    pub fn sub(&self, a: &U256, b: &U256) -> U256 {
        let (difference, borrowed) = sub_raw(a, b);
        if borrowed {
            add_raw(&difference, &self.0).0
        } else {
            difference
        }
    }

    pub fn mul(&self, a: &U256, b: &U256) -> U256 {
        let wide = mul_wide(a, b);
        if self.0 == P {
            reduce_p(&wide)
        } else {
            self.reduce(&wide)
        }
    }

    pub fn pow(&self, base: &U256, exponent: &U256) -> U256 {
        let mut result = from_u64(1);
        for index in (0..256).rev() {
            result = self.mul(&result, &result);
            if bit(exponent, index) {
                result = self.mul(&result, base);
            }
        }
        result
    }

    /// The inverse, by Fermat: a^(m−2).
    pub fn inv(&self, a: &U256) -> U256 {
        let exponent = sub_raw(&self.0, &from_u64(2)).0;
        self.pow(a, &exponent)
    }
}

pub const FIELD: Modulus = Modulus(P);
pub const SCALARS: Modulus = Modulus(L);

/// d = −121665 / 121666 mod p (RFC 8032 §5.1); `tests/ed25519_rules.rs` checks it.
pub const CURVE_D: U256 = [
    0x75eb_4dca_1359_78a3,
    0x0070_0a4d_4141_d8ab,
    0x8cc7_4079_7779_e898,
    0x5203_6cee_2b6f_fe73,
];

/// √−1 = 2^((p−1)/4) mod p; `tests/ed25519_rules.rs` checks it.
pub const SQRT_MINUS_ONE: U256 = [
    0xc4ee_1b27_4a0e_a0b0,
    0x2f43_1806_ad2f_e478,
    0x2b4d_0099_3dfb_d7a7,
    0x2b83_2480_4fc1_df0b,
];

/// A point in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub x: U256,
    pub y: U256,
    pub z: U256,
    pub t: U256,
}

impl Point {
    pub fn identity() -> Point {
        Point {
            x: [0; 4],
            y: from_u64(1),
            z: from_u64(1),
            t: [0; 4],
        }
    }

    /// The base point B of RFC 8032 §5.1: y = 4/5, x even.
    pub fn base() -> Point {
        let y = FIELD.mul(&from_u64(4), &FIELD.inv(&from_u64(5)));
        let mut encoding = to_le_bytes(&y);
        encoding[31] &= 0x7f;
        match Point::decode(&encoding) {
            Some(point) => point,
            None => Point::identity(),
        }
    }

    /// RFC 8032 §5.1.3 decoding, strict: `None` if y ≥ p, if no x exists,
    /// or if x = 0 and the sign bit is set.
    pub fn decode(encoding: &[u8; 32]) -> Option<Point> {
        let sign = encoding[31] >> 7;
        let mut y_bytes = *encoding;
        y_bytes[31] &= 0x7f;
        let y = from_le_bytes(&y_bytes);
        if at_least(&y, &P) {
            return None;
        }
        let y2 = FIELD.mul(&y, &y);
        let u = FIELD.sub(&y2, &from_u64(1));
        let v = FIELD.add(&FIELD.mul(&CURVE_D, &y2), &from_u64(1));
        let x2 = FIELD.mul(&u, &FIELD.inv(&v));
        if x2 == [0; 4] {
            if sign == 1 {
                return None;
            }
            return Some(Point::affine([0; 4], y));
        }
        // x = x2^((p+3)/8), then fix up by √−1; (p + 3) / 8 = 2^252 − 2.
        let exponent = sub_raw(&[0, 0, 0, 1 << 60], &from_u64(2)).0;
        let mut x = FIELD.pow(&x2, &exponent);
        if FIELD.mul(&x, &x) != x2 {
            x = FIELD.mul(&x, &SQRT_MINUS_ONE);
        }
        if FIELD.mul(&x, &x) != x2 {
            return None;
        }
        if (x[0] & 1) as u8 != sign {
            x = FIELD.sub(&[0; 4], &x);
        }
        Some(Point::affine(x, y))
    }

    fn affine(x: U256, y: U256) -> Point {
        Point {
            x,
            y,
            z: from_u64(1),
            t: FIELD.mul(&x, &y),
        }
    }

    /// The canonical 32-byte encoding (RFC 8032 §5.1.2).
    pub fn encode(&self) -> [u8; 32] {
        let z_inverse = FIELD.inv(&self.z);
        let x = FIELD.mul(&self.x, &z_inverse);
        let y = FIELD.mul(&self.y, &z_inverse);
        let mut out = to_le_bytes(&y);
        out[31] |= ((x[0] & 1) as u8) << 7;
        out
    }

    /// Point addition on −x² + y² = 1 + d·x²·y² (RFC 8032 §5.1.4).
    pub fn add(&self, other: &Point) -> Point {
        let f = FIELD;
        let a = f.mul(&f.sub(&self.y, &self.x), &f.sub(&other.y, &other.x));
        let b = f.mul(&f.add(&self.y, &self.x), &f.add(&other.y, &other.x));
        let two_d = f.add(&CURVE_D, &CURVE_D);
        let c = f.mul(&f.mul(&self.t, &other.t), &two_d);
        let d = f.mul(&f.add(&self.z, &self.z), &other.z);
        let (e, ff, g, h) = (f.sub(&b, &a), f.sub(&d, &c), f.add(&d, &c), f.add(&b, &a));
        Point {
            x: f.mul(&e, &ff),
            y: f.mul(&g, &h),
            z: f.mul(&ff, &g),
            t: f.mul(&e, &h),
        }
    }

    pub fn negate(&self) -> Point {
        Point {
            x: FIELD.sub(&[0; 4], &self.x),
            y: self.y,
            z: self.z,
            t: FIELD.sub(&[0; 4], &self.t),
        }
    }

    /// [k]P by double-and-add over all 256 bits of k.
    pub fn times(&self, k: &U256) -> Point {
        let mut result = Point::identity();
        for index in (0..256).rev() {
            result = result.add(&result);
            if bit(k, index) {
                result = result.add(self);
            }
        }
        result
    }

    pub fn equals(&self, other: &Point) -> bool {
        FIELD.mul(&self.x, &other.z) == FIELD.mul(&other.x, &self.z)
            && FIELD.mul(&self.y, &other.z) == FIELD.mul(&other.y, &self.z)
    }

    pub fn is_identity(&self) -> bool {
        self.equals(&Point::identity())
    }
}

/// A 64-byte SHA-512 digest read little-endian and reduced mod L (RFC 8032 §5.1.6).
pub fn scalar_from_digest(digest: &[u8]) -> U256 {
    let mut limbs = [0u64; 8];
    for (index, limb) in limbs.iter_mut().enumerate() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&digest[index * 8..index * 8 + 8]);
        *limb = u64::from_le_bytes(chunk);
    }
    SCALARS.reduce(&limbs)
}

/// The secret scalar s and the nonce prefix of an Ed25519 seed (RFC 8032 §5.1.5).
pub fn expand_seed(hash_of_seed: &[u8; 64]) -> (U256, [u8; 32]) {
    let mut s = [0u8; 32];
    s.copy_from_slice(&hash_of_seed[..32]);
    s[0] &= 248;
    s[31] &= 127;
    s[31] |= 64;
    let mut prefix = [0u8; 32];
    prefix.copy_from_slice(&hash_of_seed[32..]);
    (from_le_bytes(&s), prefix)
}

/// The eight points of order dividing 8, the identity first (ISM-1 §7.3).
pub fn torsion_points() -> Vec<Point> {
    // A point of order 8 (the encoding libsodium's small-order list also
    // names); its eight multiples are the whole torsion subgroup.
    let order8 = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let generator = Point::decode(&order8).unwrap_or_else(Point::identity);
    let mut points = vec![Point::identity()];
    let mut current = generator;
    for _ in 1..8 {
        points.push(current);
        current = current.add(&generator);
    }
    points
}
