/* alloc-count.c: a counting malloc for bench/run.sh (LD_PRELOAD)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Counts the calls that allocate (malloc, calloc, realloc, memalign and
 * friends) of the process it is preloaded into, every thread, and passes
 * them on to glibc. Run with G_SLICE=always-malloc, so that GLib's slices
 * (json-glib's nodes, GList links) are counted too. The count is read:
 *  - in the process, by bench_alloc_count() (found with dlsym: the parse
 *    scenario reports its allocations per message with it);
 *  - at exit, written to the file named by BENCH_ALLOC_OUT (any process:
 *    an older bayeux-bench, a fan-out subscriber), as "allocations N".
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>

extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t count, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void *__libc_memalign (size_t alignment, size_t size);
extern void  __libc_free (void *ptr);

static atomic_ulong allocations;

unsigned long bench_alloc_count (void);

unsigned long
bench_alloc_count (void)
{
  return atomic_load_explicit (&allocations, memory_order_relaxed);
}

static inline void
count (void)
{
  atomic_fetch_add_explicit (&allocations, 1, memory_order_relaxed);
}

void *
malloc (size_t size)
{
  count ();
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  count ();
  return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
  count ();
  return __libc_realloc (ptr, size);
}

void *
memalign (size_t alignment, size_t size)
{
  count ();
  return __libc_memalign (alignment, size);
}

void *
aligned_alloc (size_t alignment, size_t size)
{
  count ();
  return __libc_memalign (alignment, size);
}

int
posix_memalign (void **out, size_t alignment, size_t size)
{
  void *p;

  count ();
  p = __libc_memalign (alignment, size);
  if (p == NULL)
    return 12;   /* ENOMEM */
  *out = p;
  return 0;
}

void
free (void *ptr)
{
  __libc_free (ptr);
}

__attribute__((destructor)) static void
report (void)
{
  const char *path = getenv ("BENCH_ALLOC_OUT");
  FILE *f;

  if (path == NULL || (f = fopen (path, "w")) == NULL)
    return;
  fprintf (f, "allocations %lu\n", bench_alloc_count ());
  fclose (f);
}
