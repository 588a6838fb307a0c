"""The brrtrouter-backup policy pack: pulumi preview --policy-pack policy."""

from backup_policies import policy_pack

policy_pack()
