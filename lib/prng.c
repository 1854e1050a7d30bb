/* prng.c — xoshiro256** (Blackman & Vigna), seeded through splitmix64. */
#include "prng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void prng_init(prng *p, uint64_t seed, uint64_t a, uint64_t b)
{
	/* Mix the triple into one 64-bit key, each part through its own
	 * splitmix64 round so (seed, a, b) and permutations differ. */
	uint64_t x = seed;
	uint64_t k = splitmix64(&x);
	x = k ^ a;
	k = splitmix64(&x);
	x = k ^ b;
	k = splitmix64(&x);
	x = k;
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&x);
}

uint64_t prng_u64(prng *p)
{
	uint64_t *s = p->s;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

double prng_uniform(prng *p)
{
	return (double)(prng_u64(p) >> 11) * 0x1.0p-53;
}

uint64_t prng_below(prng *p, uint64_t n)
{
	/* Lemire's nearly divisionless method would be faster; rejection on
	 * the top range is enough here and obviously unbiased. */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = prng_u64(p);
	while (x >= lim);
	return x % n;
}

double prng_normal(prng *p)
{
	/* Box-Muller, one value per call (no cached state: streams stay
	 * simple to reason about). */
	double u1 = prng_uniform(p), u2 = prng_uniform(p);
	if (u1 < 0x1.0p-60)
		u1 = 0x1.0p-60;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
