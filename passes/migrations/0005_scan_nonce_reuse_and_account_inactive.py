"""A nonce reused with another credential is refused and stored (`nonce_reused`); a deactivated
account is refused at scan (`account_inactive`) and told to offline scanners (revocation
events `deactivate` / `reactivate`)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('passes', '0004_drop_scan_fast_path'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='scan',
            name='scan_nonce_unique_per_host',
        ),
        migrations.AlterField(
            model_name='revocationevent',
            name='action',
            field=models.CharField(choices=[('revoke', 'révocation'), ('suspend', 'suspension'), ('reinstate', 'rétablissement'), ('deactivate', 'compte désactivé'), ('reactivate', 'compte réactivé')], max_length=10),
        ),
        migrations.AlterField(
            model_name='scan',
            name='reason',
            field=models.CharField(blank=True, choices=[('nonce_reused', 'Identifiant de lecture déjà utilisé pour un autre code : lecture refusée.'), ('malformed', "Ce n'est pas un ch'tipass."), ('unknown_key', 'Clé de signature inconnue ou plus valable.'), ('bad_signature', 'Signature invalide : code falsifié.'), ('expired', 'Code expiré.'), ('not_yet_valid', 'Code pas encore valable.'), ('stale_code', "Code périmé ou déjà utilisé ailleurs (capture d'écran ?)."), ('online_only', 'Carte imprimée : vérification en ligne obligatoire.'), ('revoked', "Ch'tipass révoqué."), ('suspended', "Ch'tipass suspendu."), ('account_inactive', 'Compte du membre désactivé.'), ('membership_inactive', "Adhésion inactive dans le lieu d'origine."), ('not_in_network', 'Ce lieu ne fait pas partie du réseau du pass.'), ('host_full', "Le lieu a atteint sa capacité de visiteurs pour aujourd'hui."), ('allowance_exhausted', 'Plus de visites disponibles ce mois-ci.')], max_length=24, verbose_name='motif'),
        ),
        migrations.AddConstraint(
            model_name='scan',
            constraint=models.UniqueConstraint(condition=models.Q(('nonce__isnull', False), models.Q(('reason', 'nonce_reused'), _negated=True)), fields=('host', 'nonce'), name='scan_nonce_unique_per_host'),
        ),
        migrations.AddConstraint(
            model_name='scan',
            constraint=models.UniqueConstraint(condition=models.Q(('reason', 'nonce_reused')), fields=('host', 'nonce', 'credential'), name='scan_nonce_reuse_once_per_credential'),
        ),
    ]
