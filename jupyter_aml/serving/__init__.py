"""Web services: the scoring replica, the load balancer and the deployment manager (see ARCHITECTURE)."""
