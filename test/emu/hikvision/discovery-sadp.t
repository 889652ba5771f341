# discovery on 37020/udp: the SADP inquiry gets the ProbeMatch with the
# Uuid echoed; an "update" (network configuration) is logged, not answered
open discovery 37020 udp
> <?xml version="1.0" encoding="utf-8"?><Probe><Uuid>13A888A9-F1B1-4020-AE9F-05607682D23B</Uuid><Types>inquiry</Types></Probe>
close
open discovery 37020 udp
> <?xml version="1.0" encoding="utf-8"?>\n<Probe>\n<Uuid>B0A1C2D3-0000-4000-8000-000000000001</Uuid>\n<Types>update</Types>\n<DeviceSN>x</DeviceSN>\n<method>modifyipdns</method>\n</Probe>
close
# only a well-formed inquiry is answered (a <Probe> root holding Types):
# not the bare Types of reflection attacks, not an unclosed Probe
open discovery 37020 udp
> <Types>inquiry</Types>
close
open discovery 37020 udp
> <Probe><Uuid>R1</Uuid><Types>inquiry</Types>
close
open discovery 37020 udp
> <!-- a comment --><Probe a='>'><Uuid>R2</Uuid><Types>inquiry</Types></Probe>
close
