from django.dispatch import Signal

# Sent once per batch when its letters are handed to the post office, with
# `letters`: the Letter rows that just became POSTED. The accounts app records
# them in the members' security log.
letters_posted = Signal()
