# ^C at the user name kills login (close); ^C in the password read fails
# the login (no password logged); ^D on an empty line is EOF; ^Z is dropped
# with the line
open telnet 23
> ab\x03
open telnet 23
> root\r\n
> se\x03
+ 3000
> ro\x1aadmin\r\n
> \x04
+ 3000
> \x04
open telnet 23
> root\r\n
> pw\x1c
