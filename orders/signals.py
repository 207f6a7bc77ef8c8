"""Signals orders send so apps above it (billing) can react without orders importing them.

order_status_changed is sent inside the transaction that changed the status, after the row is
saved: receivers that write (coupon give-back, points) join that transaction; receivers that call
the outside world (refunds, captures) must defer with transaction.on_commit.
"""

from django.dispatch import Signal

# kwargs: order (locked, saved), before (old status), after (new status), actor_user (or None)
order_status_changed = Signal()
