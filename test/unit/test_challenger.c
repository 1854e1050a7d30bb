/* test_challenger.c — the decision of lib/challenger.c against naive
 * references: the sign test's binomial tail by enumeration of all 2^m
 * outcomes, the DM branch equal to dm_test_bartlett, the fallback when DM is
 * undefined, and invariance to the scale of the losses. */
#include "challenger.h"
#include "dmtest.h"
#include "tap.h"

#include <math.h>
#include <string.h>

/* P(X >= k), X ~ Binomial(m, 1/2), by counting the subsets (m <= 20). */
static double naive_tail(int m, int k)
{
	long hit = 0, all = 1L << m;
	for (long s = 0; s < all; s++)
		hit += __builtin_popcountl((unsigned long)s) >= k;
	return (double)hit / (double)all;
}

int main(void)
{
	/* constant differences (zero variance, non-zero mean): DM is undefined,
	 * the sign test decides; 12 wins of 12 */
	double ch[20], cp[20];
	for (int i = 0; i < 12; i++)
		ch[i] = 1.0, cp[i] = 2.0;
	ch_score s;
	memset(&s, 0, sizeof s);
	ch_decide(ch, cp, 12, 7, 0.05, &s);
	CHECK(s.test && !strcmp(s.test, "sign"), "zero-variance differences fall back to the sign test");
	CHECK(s.dm_note[0] != '\0', "the reason DM was not used is kept");
	CHECK_NEAR(s.p_value, naive_tail(12, 12), 1e-12, "sign test p for 12 of 12 = naive");
	CHECK(s.promote, "12 wins of 12 promote at 0.05");
	/* the binomial tail for every m <= 20 and k against enumeration */
	double worst = 0;
	for (int m = 1; m <= 20; m++)
		for (int k = 0; k <= m + 1; k++)
			worst = fmax(worst, fabs(ch_sign_p(m, k) - naive_tail(m, k)));
	CHECK(worst < 1e-12, "every sign-test p equals the enumeration");
	/* wins, losses and ties are counted */
	for (int i = 0; i < 14; i++)
		ch[i] = i < 5 ? 1.0 : 3.0, cp[i] = 2.0;
	ch[14] = cp[14] = 2.0;
	ch_score t;
	memset(&t, 0, sizeof t);
	ch_decide(ch, cp, 15, 1, 0.05, &t);
	CHECK(t.wins == 5 && t.losses == 9 && t.ties == 1, "wins, losses and ties are counted");
	/* the DM branch is dm_test_bartlett's one-sided p */
	double a[20], b[20];
	for (int i = 0; i < 20; i++) {
		a[i] = 10 + sin(i * 1.3) * 3 + (i % 3);
		b[i] = 11 + cos(i * 0.7) * 2;
	}
	ch_score u;
	memset(&u, 0, sizeof u);
	ch_decide(a, b, 20, 7, 0.05, &u);
	dm_result r;
	cp_err e = {0};
	CHECK(dm_test_bartlett(a, b, 20, 7, 0, &r, &e) == 0, "dm_test_bartlett is defined here");
	CHECK(u.test && !strcmp(u.test, "dm"), "DM decides when it is defined");
	CHECK_NEAR(u.p_value, r.p_less, 1e-15, "the decision's p is DM's one-sided p");
	CHECK(!strcmp(r.kernel, "bartlett") && r.lags == 6, "Bartlett weights at steps - 1 lags");
	CHECK(u.promote == (r.p_less < 0.05), "promote exactly when p < level");
	/* scale: losses of 1000 y are 1e6 times those of y */
	double a6[20], b6[20];
	for (int i = 0; i < 20; i++)
		a6[i] = a[i] * 1e6, b6[i] = b[i] * 1e6;
	ch_score v;
	memset(&v, 0, sizeof v);
	ch_decide(a6, b6, 20, 7, 0.05, &v);
	CHECK_NEAR(v.p_value, u.p_value, 1e-9, "same p-value at 1e6 times the losses");
	CHECK(v.promote == u.promote && v.wins == u.wins, "same decision at 1e6 times the losses");
	/* identical losses: never promoted */
	ch_score z;
	memset(&z, 0, sizeof z);
	ch_decide(a, a, 20, 7, 0.05, &z);
	CHECK(!z.promote, "identical losses are not a promotion");
	return tap_done();
}
