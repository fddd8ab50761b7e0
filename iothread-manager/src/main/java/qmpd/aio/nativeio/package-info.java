/** FFM bindings of the Linux system calls the event loop needs; nothing else in the project calls libc. */
package qmpd.aio.nativeio;
