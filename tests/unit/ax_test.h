/*
 * Shared includes and small helpers for the cmocka unit tests.
 */
#ifndef AX_TEST_H
#define AX_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define assert_str_contains(hay, needle)                                       \
	do {                                                                   \
		if (strstr((hay), (needle)) == NULL)                           \
			fail_msg("\"%s\" does not contain \"%s\"", (hay),      \
			    (needle));                                         \
	} while (0)

#endif
