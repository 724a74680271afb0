/* Keeping the memory of freed merge outputs in the process, so the next output does not fault it in afresh. */
#ifndef TM_ALLOC_H
#define TM_ALLOC_H

void tm_keep_freed_memory(void);

#endif
