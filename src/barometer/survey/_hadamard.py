"""Hadamard matrices exactly as R's survey package builds them (``survey:::hadamard``:
its four stored matrices of orders 4, 16, 28 and 36, Sylvester doubling and
Paley's construction), for BRR replicate weights (``brrweights``).  The stored
matrices are copied from ``survey:::hadamard.list`` (0/1 coding)."""

from __future__ import annotations

import numpy as np

_STORED = {
    4: (
        "1111",
        "1010",
        "1100",
        "1001",
    ),
    16: (
        "1111111111111111",
        "1010101010101010",
        "1100110011001100",
        "1001100110011001",
        "1111000011110000",
        "1010010110100101",
        "1100001111000011",
        "1001011010010110",
        "1111111100000000",
        "1010101001010101",
        "1100110000110011",
        "1001100101100110",
        "1111000000001111",
        "1010010101011010",
        "1100001100111100",
        "1001011001101001",
    ),
    28: (
        "1111111111111111111111111111",
        "1001110001110001110001111000",
        "1000001111001101001101111000",
        "1000001110110010111001100110",
        "1001101000001111100011010110",
        "1001010100101100010110101110",
        "1000110011010010001110011110",
        "0101100010101010011111110000",
        "0100010110110101100111010100",
        "0100011011001011110010101100",
        "0101011000010111011101001010",
        "0100101101100100111010011010",
        "0101100101011001101100100110",
        "0010110100011110101011101000",
        "0011011001100110101100110100",
        "0010101100111011010100011100",
        "0011000111010111010010110010",
        "0011001011111000100111001010",
        "0010110011101101011001000110",
        "1110101001010100010111100100",
        "1111000101100011001011001100",
        "1111000010011100111000011100",
        "1110010101001010110101010010",
        "1110011000111001001010110010",
        "1110100010100111100100101010",
        "1101111111111110000000000000",
        "1011111110000001111110000000",
        "0111111110000000000001111110",
    ),
    36: (
        "111111111111111111111111111111111111",
        "010111000111110111001000010101100100",
        "101110001111101110010000101011001000",
        "011100011111011100100001010110010010",
        "111000111110111001000010101100100100",
        "110001111101110010000101011001001010",
        "100011111011100100001010110010010110",
        "000111110111001000010101100100101110",
        "001111101110010000101011001001011100",
        "011111011100100001010110010010111000",
        "111110111001000010101100100101110000",
        "111101110010000101011001001011100010",
        "111011100100001010110010010111000110",
        "110111001000010101100100101110001110",
        "101110010000101011001001011100011110",
        "011100100001010110010010111000111110",
        "111001000010101100100101110001111100",
        "110010000101011001001011100011111010",
        "100100001010110010010111000111110110",
        "001000010101100100101110001111101110",
        "010000101011001001011100011111011100",
        "100001010110010010111000111110111000",
        "000010101100100101110001111101110010",
        "000101011001001011100011111011100100",
        "001010110010010111000111110111001000",
        "010101100100101110001111101110010000",
        "101011001001011100011111011100100000",
        "010110010010111000111110111001000010",
        "101100100101110001111101110010000100",
        "011001001011100011111011100100001010",
        "110010010111000111110111001000010100",
        "100100101110001111101110010000101010",
        "001001011100011111011100100001010110",
        "010010111000111110111001000010101100",
        "100101110001111101110010000101011000",
        "001011100011111011100100001010110010",
    ),
}
SIZES = (4, 16, 28, 36)


def _stored(k: int) -> np.ndarray:
    return np.array([[int(c) for c in row] for row in _STORED[k]], dtype=np.int8)


def _small_primes() -> list[int]:
    """R's ``small.primes`` in ``paley``: the primes p = 3 mod 4 up to 7919."""
    limit = 7919
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for k in range(2, int(limit**0.5) + 1):
        if sieve[k]:
            sieve[k * k::k] = False
    return [int(p) for p in np.flatnonzero(sieve) if p % 4 == 3]


SMALL_PRIMES = _small_primes()


def doubler(H: np.ndarray) -> np.ndarray:
    return np.block([[H, H], [H, 1 - H]])


def paley(n: int | None = None, nmax: int | None = None, prime: int | None = None) -> np.ndarray | None:
    """R ``survey::paley``."""
    if prime is not None and n is None:
        n = prime
    if nmax is None:
        nmax = 2 * n
    if prime is None:
        nceil = nn = n + 4 - (n % 4)
        if (n % 4) + 4 == (n % 8):
            while not (nn % 8):
                nn //= 2
            if (nn - 1) in SMALL_PRIMES:
                m = paley(prime=nn - 1)
                while nn < nceil:
                    m = doubler(m)
                    nn *= 2
                return m
        if n > max(SMALL_PRIMES):
            return None
        p = min(q for q in SMALL_PRIMES if q >= n)
        if (p + 1 > nceil + 4) and (nceil + 4 < nmax):
            return paley(nceil + 3)
        if p > nmax:
            return None
    else:
        p = prime
        if (p + 1) % 4 != 0 or p < n:
            return None
    m = np.add.outer(np.arange(p), np.arange(p)) % p
    res = {0, 1} | {(i * i) % p for i in range(2, (p - 1) // 2 + 1)}
    if (p - 1) // 2 < 2:  # R's 2:1 counts down
        res |= {(i * i) % p for i in (2, 1)}
    m = np.where(np.isin(m, list(res)), 0, 1)
    top = np.ones((1, p), dtype=np.int8)
    body = np.vstack([top, m.astype(np.int8)])
    return np.hstack([np.ones((p + 1, 1), dtype=np.int8), body])


def hadamard(n: int) -> np.ndarray:
    """R ``survey::hadamard(n)``: a 0/1 Hadamard matrix with more than n rows."""
    m = n - (n % 4)
    pre = [i for i, s in enumerate(SIZES) if m < s and m + 4 >= s]
    if pre:
        return _stored(SIZES[min(pre)])
    if all(m < s for s in SIZES):
        return _stored(SIZES[0])
    sizes = [s * 2 ** max(0, int(np.ceil(np.log2((n + 1) / s)))) for s in SIZES]
    best = int(np.argmin([s - n for s in sizes]))
    H = None
    if sizes[best] - n > 4:
        H = paley(n, sizes[best])
    if H is None:
        ndoubles = int(np.ceil(np.log2(sizes[best] / SIZES[best])))
        H = _stored(SIZES[best])
        for _ in range(ndoubles):
            H = doubler(H)
    return H
