/* prng.h — seeded xoshiro256** with independent streams. */
#ifndef CHRONOPT_PRNG_H
#define CHRONOPT_PRNG_H
#include <stdint.h>

typedef struct { uint64_t s[4]; } prng;

/* Initialise the stream identified by (seed, a, b), e.g. a = forecast
 * origin, b = sample path. Distinct triples give independent streams;
 * the same triple always gives the same numbers. Tests may set p->s. */
void prng_init(prng *p, uint64_t seed, uint64_t a, uint64_t b);
uint64_t prng_u64(prng *p);
double prng_uniform(prng *p);          /* [0, 1), 53 bits */
uint64_t prng_below(prng *p, uint64_t n); /* uniform in [0, n), unbiased; n > 0 */
double prng_normal(prng *p);           /* standard normal */

#endif
