"""Who is acting, and the one policy that decides what they may do."""
