/* tap.h — a tiny TAP producer for the C unit tests.
 *   CHECK(cond, "name")         one test line
 *   CHECK_NEAR(a, b, tol, name) |a-b| <= tol * max(1,|b|) (relative)
 *   return tap_done();          exit status 1 if anything failed */
#ifndef CHRONOPT_TAP_H
#define CHRONOPT_TAP_H
#include <math.h>
#include <stdio.h>

static int tap_n, tap_fail;

static void tap_check(int ok, const char *name, const char *file, int line)
{
	tap_n++;
	if (!ok)
		tap_fail++;
	printf("%sok %d - %s\n", ok ? "" : "not ", tap_n, name);
	if (!ok)
		printf("#   failed at %s:%d\n", file, line);
}
#define CHECK(cond, name) tap_check(!!(cond), (name), __FILE__, __LINE__)
#define CHECK_NEAR(a, b, tol, name) do { \
	double a_ = (a), b_ = (b); \
	int ok_ = fabs(a_ - b_) <= (tol) * (fabs(b_) > 1 ? fabs(b_) : 1); \
	if (!ok_) printf("#   got %.17g want %.17g\n", a_, b_); \
	tap_check(ok_, (name), __FILE__, __LINE__); } while (0)
static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}
#endif
