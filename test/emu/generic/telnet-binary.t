# binary and invalid UTF-8 in the password: logged escaped
open telnet 23
> admin\r\n
> \x00\x01\x1b[A\xc3\xa9\xc3\x28\xff\xff\xfe\x80\xed\xa0\x80\t\r\n
+ 3000
close
