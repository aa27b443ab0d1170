/// FNV-1a, 64-bit: a fast, stable (not cryptographic) hash of bytes — for seeds and for
/// telling inputs or compiled graphs apart.
public func fnv1a64<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}
