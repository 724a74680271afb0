#pragma once
#include <stddef.h>

/*
 * Read-only access to a file's bytes without copying them: the whole file mapped privately (writes go to
 * private copies, never to the file). The length is checked against the file's size first, so no mapped
 * page lies past the end of the file. Returns NULL with errno set on failure.
 */
void *tm_map_file(int fd, size_t length);
void tm_unmap_file(void *base, size_t length);
/* Whether a read of the mapping at `base` found its file truncated (the lost pages now read as zeros). */
int tm_map_cut(const void *base);
/* Lets the kernel drop the whole pages inside [offset, offset + length) (re-read from the file if touched). */
void tm_release_pages(void *base, size_t offset, size_t length);
/* Starts writeback of [offset, offset + length) of fd without waiting (a later fsync has less to do). */
void tm_start_writeback(int fd, size_t offset, size_t length);
