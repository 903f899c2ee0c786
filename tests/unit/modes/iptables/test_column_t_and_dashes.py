"""`iptables -L … | column -t` and an -L listing whose "--" a blog's typography made a dash ("tcp — anywhere"): both from
"Life of a Packet in Kubernetes — Part 3" as the index holds its copies (ids 30711786343, 14320688519, 29335312700,
48213707269, 30293030592, 30754209093: English, Chinese and Korean notes; no repository found to cite, so the lines are
kept here, as the copies print them, trailing blanks and all). Both were refused at their first 'Chain' header or rule.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

# `| column -t` spaces every word out into columns, the comments' too ("/*  default/webapp   cluster  IP  */")
COLUMN_T = '$ sudo iptables -t nat -L PREROUTING | column -t\nChain            PREROUTING  (policy  ACCEPT)                                                                    \ntarget           prot        opt      source    destination                                                      \ncali-PREROUTING  all         --       anywhere  anywhere     /*        cali:6gwbT8clXdHdC1b1  */                 \nKUBE-SERVICES    all         --       anywhere  anywhere     /*        kubernetes             service   portals  */\nDOCKER           all         --       anywhere  anywhere     ADDRTYPE  match                  dst-type  LOCAL\n\n$ sudo iptables -t nat -L KUBE-SERVICES | column -t\nChain                      KUBE-SERVICES  (2   references)                                                                                                                                                                             \ntarget                     prot           opt  source          destination                                                                                                                                                             \nKUBE-MARK-MASQ             tcp            --   !10.244.0.0/16  10.103.46.104   /*  default/webapp                   cluster  IP          */     tcp   dpt:www                                                                          \nKUBE-SVC-2IRACUALRELARSND  tcp            --   anywhere        10.103.46.104   /*  default/webapp                   cluster  IP          */     tcp   dpt:www                                                                                                                                             \nKUBE-NODEPORTS             all            --   anywhere        anywhere        /*  kubernetes                       service  nodeports;  NOTE:  this  must        be  the  last  rule  in  this  chain  */  ADDRTYPE  match  dst-type  LOCAL\n\n$ sudo iptables -t nat -L KUBE-NODEPORTS | column -t\nChain                      KUBE-NODEPORTS  (1   references)                                            \ntarget                     prot            opt  source       destination                               \nKUBE-MARK-MASQ             tcp             --   anywhere     anywhere     /*  default/webapp  */  tcp  dpt:31380\nKUBE-SVC-2IRACUALRELARSND  tcp             --   anywhere     anywhere     /*  default/webapp  */  tcp  dpt:31380\n\n$ sudo iptables -t nat -L KUBE-SVC-2IRACUALRELARSND | column -t\nChain                      KUBE-SVC-2IRACUALRELARSND  (2   references)                                                                             \ntarget                     prot                       opt  source       destination                                                                \nKUBE-SEP-AO6KYGU752IZFEZ4  all                        --   anywhere     anywhere     /*  default/webapp  */  statistic  mode  random  probability  0.50000000000\nKUBE-SEP-PJFBSHHDX4VZAOXM  all                        --   anywhere     anywhere     /*  default/webapp  */\n\n$ sudo iptables -t nat -L KUBE-SEP-AO6KYGU752IZFEZ4 | column -t\nChain           KUBE-SEP-AO6KYGU752IZFEZ4  (1   references)                                               \ntarget          prot                       opt  source          destination                               \nKUBE-MARK-MASQ  all                        --   10.244.120.102  anywhere     /*  default/webapp  */       \nDNAT            tcp                        --   anywhere        anywhere     /*  default/webapp  */  tcp  to:10.244.120.102:80\n\n$ sudo iptables -t nat -L KUBE-SEP-PJFBSHHDX4VZAOXM | column -t\nChain           KUBE-SEP-PJFBSHHDX4VZAOXM  (1   references)                                               \ntarget          prot                       opt  source          destination                               \nKUBE-MARK-MASQ  all                        --   10.244.120.103  anywhere     /*  default/webapp  */       \nDNAT            tcp                        --   anywhere        anywhere     /*  default/webapp  */  tcp  to:10.244.120.103:80\n\n$ sudo iptables -t nat -L KUBE-MARK-MASQ | column -t\nChain   KUBE-MARK-MASQ  (24  references)                         \ntarget  prot            opt  source       destination            \nMARK    all             --   anywhere     anywhere     MARK  or  0x4000\n'

# the same author's KUBE-XLB walk on the node without a local endpoint, "--" printed as "—" by the page
DASHES = '$ sudo iptables -t nat -L KUBE-NODEPORTS\nChain KUBE-NODEPORTS (1 references)\ntarget prot opt source destination\nKUBE-MARK-MASQ tcp — 127.0.0.0/8 anywhere /* default/webapp */ tcp dpt:30080\nKUBE-XLB-2IRACUALRELARSND tcp — anywhere anywhere /* default/webapp */ tcp dpt:30080\n$ sudo iptables -t nat -L KUBE-XLB-2IRACUALRELARSND\nChain KUBE-XLB-2IRACUALRELARSND (1 references)\ntarget prot opt source destination\nKUBE-SVC-2IRACUALRELARSND all — 10.244.0.0/16 anywhere /* Redirect pods trying to reach external loadbalancer VIP to clusterIP */\nKUBE-MARK-MASQ all — anywhere anywhere /* masquerade LOCAL traffic for default/webapp LB IP */ ADDRTYPE match src-type LOCAL\nKUBE-SVC-2IRACUALRELARSND all — anywhere anywhere /* route LOCAL traffic for default/webapp LB IP to service chain */ ADDRTYPE match src-type LOCAL\nKUBE-MARK-DROP all — anywhere anywhere /* default/webapp has no local endpoints */\n'


def _run(tmp_path: Path, text: str, *args: str) -> str:
    paste = tmp_path / "paste.txt"
    paste.write_text(text, encoding="utf-8")
    code, out, err = svcpath(*args, "--rules-file", str(paste))
    assert code in (0, 3), err
    return out


def test_a_listing_spaced_out_by_column_t_is_read(tmp_path: Path) -> None:
    """'Chain   KUBE-SERVICES  (2   references)' was 'line 2: not an iptables -L rule line'; the comments' words spaced
    out ('default/webapp   cluster  IP') are the Service's name and entry kind."""
    out = _run(tmp_path, COLUMN_T, "default/webapp")
    assert "Service:  default/webapp  type NodePort  cluster IP 10.103.46.104" in out
    rows = [line.split() for line in out.splitlines() if "10.244.120.10" in line]
    assert [(r[-4], r[-3]) for r in rows] == [("10.244.120.102:80", "50%"), ("10.244.120.103:80", "50%")] * 2, rows
    assert "*:31380" in out
    assert _run(tmp_path, COLUMN_T, "--all").splitlines()[1].split()[:4] == ["default", "webapp", "NodePort", "10.103.46.104"]


def test_an_opt_column_dash_from_a_web_page_is_read(tmp_path: Path) -> None:
    """'KUBE-MARK-MASQ tcp — 127.0.0.0/8 anywhere …' was 'line 4: not an iptables -L rule line'; read, the node's
    KUBE-XLB chain holds only its 'has no local endpoints' KUBE-MARK-DROP."""
    out = _run(tmp_path, DASHES, "default/webapp")
    assert "no-local-endpoints" in out and "*:30080" in out
