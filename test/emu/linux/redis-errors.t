# unknown commands, arity, subcommands, AUTH with no password, then a
# protocol error that closes
open redis 6379
> \r\nPING\r\nping hi\r\nfoo a b\r\nGET\r\nCONFIG FOO\r\nCONFIG GET\r\n
> AUTH x\r\nAUTH a b\r\nAUTH default x\r\nSELECT 16\r\nSELECT x\r\nSET a b c\r\n
> *2\r\n$3\r\nGET\r\nx\r\n
+ 100
