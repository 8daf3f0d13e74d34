package certs

import (
	"bytes"
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// InjectCABundle writes ca into every webhook of the mutating and the validating
// webhook configuration called name, so the API server trusts the serving
// certificate. It is what cert-manager's cainjector does when cert-manager is
// installed; configurations that already carry ca are left alone.
func InjectCABundle(ctx context.Context, c client.Client, name string, ca []byte) error {
	var mutating admissionregistrationv1.MutatingWebhookConfiguration
	if err := c.Get(ctx, types.NamespacedName{Name: name}, &mutating); err != nil {
		return fmt.Errorf("mutating webhook configuration %s: %w", name, err)
	}
	changed := false
	for i := range mutating.Webhooks {
		if !bytes.Equal(mutating.Webhooks[i].ClientConfig.CABundle, ca) {
			mutating.Webhooks[i].ClientConfig.CABundle = ca
			changed = true
		}
	}
	if changed {
		if err := c.Update(ctx, &mutating); err != nil {
			return fmt.Errorf("update mutating webhook configuration %s: %w", name, err)
		}
	}
	var validating admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(ctx, types.NamespacedName{Name: name}, &validating); err != nil {
		return fmt.Errorf("validating webhook configuration %s: %w", name, err)
	}
	changed = false
	for i := range validating.Webhooks {
		if !bytes.Equal(validating.Webhooks[i].ClientConfig.CABundle, ca) {
			validating.Webhooks[i].ClientConfig.CABundle = ca
			changed = true
		}
	}
	if changed {
		if err := c.Update(ctx, &validating); err != nil {
			return fmt.Errorf("update validating webhook configuration %s: %w", name, err)
		}
	}
	return nil
}
