# blank user names prompt again; the 10th closes (login's
# EMPTY_USERNAME_COUNT); leading blanks are skipped
open telnet 23
> \r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n
>   \t \r\n
open telnet 23
>   \t root\r\n
> x\r\n
close
