import { NotAllowedError } from '../errors';
import { Enforcer, RbacSubject } from './enforcer';

/** The argocd-rbac-cm resource and action this proxy enforces (Argo CD's rbac constants). */
export const RESOURCE_EXTENSIONS = 'extensions';
export const ACTION_INVOKE = 'invoke';

/**
 * Step 4: may this subject invoke this extension? A denial names the missing permission
 * and the policy line an admin would add, so the user can ask for exactly that.
 */
export function authorizeInvoke(enforcer: Enforcer, who: RbacSubject, extension: string): void {
  if (enforcer.canInvoke(who, extension)) return;
  const permission = `${RESOURCE_EXTENSIONS}, ${ACTION_INVOKE}, ${extension}`;
  if (enforcer.unavailable) {
    throw new NotAllowedError(
      'permission denied: the RBAC policy in argocd-rbac-cm cannot be loaded, so every extension request is denied until an administrator fixes it',
      { details: { requiredPermission: permission } },
    );
  }
  throw new NotAllowedError(`permission denied: ${permission}`, {
    details: {
      requiredPermission: permission,
      policy: `p, ${who.subject}, ${permission}, allow`,
    },
  });
}
