"""The netfilter lab (network namespaces, real rules, real traffic) and its helpers; see netns.py."""
