"""Teams: the groups of agents tickets are routed to, and automatic assignment within one."""
