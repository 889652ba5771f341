# INFO (more than the output buffer: sent in parts), one section,
# CONFIG GET by name and by pattern, CLIENT, HELLO 3
open redis 6379
> INFO\r\n
> INFO server\r\nINFO foo\r\n
> CONFIG GET DIR\r\nCONFIG GET *max-*-entries*\r\n
> CLIENT SETNAME x\r\nCLIENT GETNAME\r\nCLIENT ID\r\nCLIENT SETINFO LIB-NAME redis-py\r\n
> HELLO 3\r\nGET nothing\r\nCOMMAND COUNT\r\n
close
