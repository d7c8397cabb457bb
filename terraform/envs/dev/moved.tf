# The modules moved into ../../modules/stack; these keep state made before
# the move (no destroy and re-create). Harmless on a fresh state.

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.eks
  to   = module.stack.module.eks
}

moved {
  from = module.msk
  to   = module.stack.module.msk
}

moved {
  from = module.rds
  to   = module.stack.module.rds
}

moved {
  from = module.secrets
  to   = module.stack.module.secrets
}

moved {
  from = module.dlq_archive
  to   = module.stack.module.dlq_archive
}

moved {
  from = module.irsa
  to   = module.stack.module.irsa
}

moved {
  from = module.alarms
  to   = module.stack.module.alarms
}
