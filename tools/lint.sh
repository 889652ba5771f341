#!/bin/sh
# lint.sh FILE...: house rules that a compiler does not check.
# - clang-format clean (make fmt fixes it)
# - options are tested with #if, never #ifdef LURE_* (#ifndef only for
#   include guards and guarded defaults)
# - nothing in the sensor can run a program: no system/popen/exec*/fork
# - emulators hold no socket calls (bytes in, bytes out)
st=0
if command -v clang-format >/dev/null 2>&1; then
	clang-format --dry-run -Werror "$@" 2>&1 | head -20
	clang-format --dry-run -Werror "$@" >/dev/null 2>&1 || st=1
else
	echo "lint: clang-format missing (sh tools/deps.sh fuzz installs clang)"; st=1
fi
if grep -nE '#\s*(ifdef\s+LURE_|if\s+!?\s*defined\s*\(?\s*LURE_)' src/*.[ch] emu/*.c platform/*.[ch]; then
	echo "lint: use #if LURE_X, not #ifdef"; st=1
fi
if grep -nE '\b(system|popen|execl|execlp|execle|execv|execvp|execve|fork|vfork|posix_spawn)\s*\(' src/*.c emu/*.c platform/*.c; then
	echo "lint: the sensor must never run a program"; st=1
fi
if grep -nE '\b(socket|send|recv|sendto|recvfrom|read|write|accept4?|connect)\s*\(' emu/*.c; then
	echo "lint: emulators never touch sockets (see src/emu.h)"; st=1
fi
[ $st = 0 ] && echo "lint: ok"
exit $st
