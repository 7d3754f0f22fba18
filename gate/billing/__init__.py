"""Plans and payments: the /plans/ page, Stripe Checkout for upgrades, and the Stripe webhook."""
