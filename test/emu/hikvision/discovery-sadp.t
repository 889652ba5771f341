# discovery on 37020/udp: the SADP inquiry gets the ProbeMatch with the
# Uuid echoed; an "update" (network configuration) is logged, not answered
open discovery 37020 udp
> <?xml version="1.0" encoding="utf-8"?><Probe><Uuid>13A888A9-F1B1-4020-AE9F-05607682D23B</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <?xml version="1.0" encoding="utf-8"?>\n<Probe>\n<Uuid>B0A1C2D3-0000-4000-8000-000000000001</Uuid>\n<Types>update</Types>\n<DeviceSN>x</DeviceSN>\n<method>modifyipdns</method>\n</Probe>
close
# at most discovery.rate (10) answers a second, all sources together: with
# the first inquiry above, R9 and R10 are over it (logged as limited, not
# answered); a second later R11 is answered
open discovery 37020 udp
> <Probe><Uuid>R0</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R1</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R2</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R3</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R4</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R5</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R6</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R7</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R8</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R9</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <Probe><Uuid>R10</Uuid><Types>inquiry</Types></Probe>
close
+ 1000
open discovery 37020 udp
> <Probe><Uuid>R11</Uuid><Types>inquiry</Types></Probe>
close
